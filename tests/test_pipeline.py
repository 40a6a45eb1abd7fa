"""The analysis with its I/O on a real Postgres: read, clean, score, write the web-app tables."""

from __future__ import annotations

import pandas as pd
import pytest

from lgs_analytics import cli, pipeline
from lgs_analytics.analytics.rfm import RFM_COLUMNS
from lgs_analytics.ingest.load import load_path
from lgs_analytics.ingest.synthetic import generate_export, write_export
from lgs_analytics.store import db

pytestmark = pytest.mark.integration


@pytest.fixture
def loaded(database_url, tmp_path):
    path = tmp_path / "export.csv"
    write_export(generate_export(rows=20_000, seed=3), path)
    load_path(path, progress=False)
    return path


def fetch(sql):
    with db.connect() as conn:
        return db.query(conn, sql)


def test_transactions_read_back_with_the_contract_types(loaded):
    frame = pipeline.read_transactions()
    assert len(frame) == fetch("SELECT count(*) FROM transactions")[0][0]
    assert str(frame["customer_id"].dtype) == "Int64" and frame["quantity"].dtype == "int64"
    assert frame["is_repeat"].sum() == fetch("SELECT count(*) FROM transactions WHERE occurrence > 1")[0][0]
    raw = pipeline.read_export_rows()
    assert len(raw) == 20_000  # every row as exported, overlap included


def test_date_range_is_inclusive(loaded):
    frame = pipeline.read_transactions("2010-03-01", "2010-03-31")
    assert frame["invoice_date"].min() >= pd.Timestamp("2010-03-01")
    assert frame["invoice_date"].max() < pd.Timestamp("2010-04-01")
    assert frame["invoice_date"].dt.month.eq(3).all() and len(frame) > 0


@pytest.mark.parametrize("method", ["standard", "classic"])
def test_lgs_rfm_writes_the_csv_and_replaces_the_web_app_tables(loaded, tmp_path, method, capsys):
    out = tmp_path / f"{method}.csv"
    for _ in range(2):  # a second run replaces the first, it does not add to it
        assert cli.main(["rfm", "--method", method, "--out", str(out)]) == 0
    assert "web-app tables customer_rfm and segments updated" in capsys.readouterr().out
    scores = pd.read_csv(out)
    assert list(scores.columns) == list(RFM_COLUMNS)
    assert scores["customer_id"].dtype == "int64" and scores["customer_id"].is_unique
    assert scores[["r_score", "f_score", "m_score"]].isin(range(1, 6)).all().all()
    stored = fetch(f"SELECT count(*), count(DISTINCT as_of) FROM customer_rfm WHERE method = '{method}'")
    assert stored == [(len(scores), 1)]
    segments = fetch(f"SELECT sum(customers), count(*), round(sum(customer_share)) FROM segments "
                     f"WHERE method = '{method}'")
    assert segments == [(len(scores), 10, 100)]


def test_as_of_scores_what_was_known_then(loaded, tmp_path):
    assert cli.main(["rfm", "--as-of", "2010-12-01", "--out", str(tmp_path / "x.csv")]) == 0
    as_of = fetch("SELECT DISTINCT as_of::text FROM customer_rfm WHERE method = 'standard'")
    assert as_of == [("2010-12-01",)]
    scores = pd.read_csv(tmp_path / "x.csv")
    assert scores["recency"].min() >= 1


def test_an_empty_database_is_a_clear_error(database_url, capsys, tmp_path):
    assert cli.main(["rfm", "--out", str(tmp_path / "x.csv")]) == 2
    assert "load an export first" in capsys.readouterr().err


def test_lgs_predict_writes_the_web_app_table_and_a_csv(loaded, tmp_path, capsys):
    out = tmp_path / "predictions.csv"
    assert cli.main(["predict", "--out", str(out)]) == 0
    assert "table customer_predictions updated" in capsys.readouterr().out
    predictions = pd.read_csv(out)
    stored = fetch("SELECT count(*), min(p_alive), max(p_alive), count(*) FILTER (WHERE churn_risk), "
                   "min(horizon_days) FROM customer_predictions")[0]
    assert stored[0] == len(predictions) > 100
    assert 0 <= stored[1] <= stored[2] <= 1 and stored[4] == 90
    assert stored[3] == int(predictions["churn_risk"].sum())
    assert cli.main(["predict"]) == 0  # a second run replaces the first
    assert fetch("SELECT count(*) FROM customer_predictions")[0][0] == len(predictions)
