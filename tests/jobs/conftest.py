"""Fixtures shared by the jobs' tests."""

from __future__ import annotations

import pytest

from lgs_analytics.ingest.load import load_path
from lgs_analytics.synthetic import generate_export, write_export


@pytest.fixture
def loaded(database_url, tmp_path):
    """A generated export of 20,000 rows, loaded into the test's own database (not built)."""
    path = tmp_path / "export_synthetic.csv"
    write_export(generate_export(rows=20_000, seed=5), path)
    load_path(path, progress=False)
    return path
