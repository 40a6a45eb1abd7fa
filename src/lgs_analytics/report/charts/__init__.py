"""Charts for the report: each function takes results and returns a matplotlib Figure."""
