"""The only Python that speaks SQL: the embedded server, connections and bulk transfer, the readers
of the raw layer and the published build (tables), and the one writer of the marts (publish)."""
