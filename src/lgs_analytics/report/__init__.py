"""The stakeholder report: renders the published build (build, kernel), its tables and charts; reads
results, never writes the database."""
