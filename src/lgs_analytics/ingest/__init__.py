"""Reading exports and loading them into the raw layer: readers, validate, identity, load, synthetic."""
