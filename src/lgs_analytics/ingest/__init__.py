"""Reading exports and loading them into the raw layer: formats, readers, validate, identity, load."""
