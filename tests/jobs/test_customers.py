"""`lgs load-customers`: the loader's guarantees, generalisation, and a database that holds no raw
birth date, full postcode or personal column afterwards; then the breakdowns of every surface
(report, dashboard, file) with no cell of fewer than ten customers."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import psycopg2
import pytest

from lgs_analytics import cli
from lgs_analytics.jobs import customers as job
from lgs_analytics.privacy import SUPPRESSED, is_suppressed_safe
from lgs_analytics.store import db

ON = dt.date(2026, 12, 7)
CRM = """CustomerID,Name,Email,Phone,BirthDate,Gender,Postcode,City,Loyalty tier
12346,Ann Example,ann@example.org,+44 20 7946 0001,1984-03-15,F,SW1A 1AA,,gold
12347.0,Bob Example,bob@example.org,+44 20 7946 0002,1961,male,m1 1ae,,silver
12348,Cy Example,cy@example.org,,15/07/1999,X,,Paris,
12349,Di Example,di@example.org,,,,,,
12350,Ed Example,ed@example.org,,31/02/1970,M,EC1A 1BB,,
12351,Flo Example,flo@example.org,,1990-01-01,F,12345,,
ABC,Gus Example,gus@example.org,,1980-01-01,M,B1 1BB,,
12346,Ann Again,ann2@example.org,,1985-01-01,F,SW1A 2AA,,
"""
RAW = ("1984-03-15", "15/07/1999", "31/02/1970", "1990-01-01", "SW1A 1AA", "SW1A1AA", "M1 1AE", "m1 1ae",
       "EC1A 1BB", "SW1A 2AA", "Ann Example", "ann@example.org", "7946", "example.org")


def write(tmp_path: Path, text: str, name: str = "crm.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def everything(url: str) -> str:
    """Every row of every table of the database, as text: what the privacy test searches."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT quote_ident(table_name) FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
        texts = []
        for (table,) in cur.fetchall():
            cur.execute(f"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM {table} t")  # noqa: S608
            texts.append(cur.fetchone()[0])
    return "\n".join(texts)


def test_attributes_are_stored_generalised_with_reasons_for_the_rest(database_url, tmp_path):
    result = job.load_attributes(write(tmp_path, CRM), on=ON)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (8, 5, 3)
    assert result.dropped == ("Name (personal)", "Email (personal)", "Phone (personal)", "Loyalty tier")
    assert result.reasons == {"birth date is not a date (YYYY-MM-DD, DD/MM/YYYY) or a year": 1,
                              "customer id is not a whole number": 1, "customer id repeated": 1}
    with db.connect() as conn:
        stored = db.query(conn, "SELECT customer_id, age_band, gender, area FROM customer_attributes "
                                "ORDER BY customer_id")
        held = db.query(conn, "SELECT source_row, customer_id, reason FROM customer_attribute_quarantine "
                              "ORDER BY source_row")
    assert stored == [(12346, "35-44", "female", "SW"), (12347, "65-74", "male", "M"),
                      (12348, "25-34", "other", "Paris"), (12349, None, None, None),
                      (12351, "35-44", "female", None)]  # a postcode abroad: not kept, the rest is
    assert [(row, customer) for row, customer, _ in held] == [(5, 12350), (7, None), (8, 12346)]
    assert "row 1 has it" in held[2][2]
    found = [value for value in RAW if value.lower() in everything(database_url).lower()]
    assert found == [], f"raw personal values stored: {found}"


def test_the_same_file_again_changes_nothing_and_a_later_file_updates(database_url, tmp_path):
    path = write(tmp_path, CRM)
    first = job.load_attributes(path, on=ON)
    again = job.load_attributes(path, on=ON)
    assert again.already and again.load_id == first.load_id
    assert "already loaded" in again.summary()
    job.load_attributes(write(tmp_path, "customer_id,gender\n12346,M\n", "update.csv"), on=ON)
    with db.connect() as conn:
        latest = db.query(conn, "SELECT gender, age_band FROM customer_attributes WHERE customer_id = 12346")
        assert latest == [("male", None)]  # the CRM's latest row is the customer's
        assert db.query(conn, "SELECT count(*) FROM customer_attribute_loads")[0][0] == 2


@pytest.mark.parametrize(("text", "name", "says"), [
    ("Name,Gender\nAnn,F\n", "crm.csv", "no customer id column"),
    ("CustomerID,Name,Email\n1,Ann,a@b.c\n", "crm.csv", "none of birth_date"),
    ("CustomerID,Gender\n", "crm.csv", "no rows"),
    ("CustomerID,Gender\n1,F\n", "crm.json", "not a .csv or .xlsx"),
])
def test_a_file_that_cannot_be_taken_is_refused_in_one_line(database_url, tmp_path, capsys, text, name, says):
    code = cli.main(["load-customers", str(write(tmp_path, text, name))])
    err = capsys.readouterr().err
    assert code == 1 and says in err and len(err.strip().splitlines()) == 1
    assert "nothing was loaded" in err
    with db.connect() as conn:
        assert db.query(conn, "SELECT count(*) FROM customer_attribute_loads")[0][0] == 0


def test_a_load_that_fails_midway_leaves_nothing(database_url, tmp_path, monkeypatch):
    def broken(*_args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(job.store, "quarantine", broken)
    with pytest.raises(RuntimeError):
        job.load_attributes(write(tmp_path, CRM), on=ON)
    with db.connect() as conn:
        counts = db.query(conn, "SELECT (SELECT count(*) FROM customer_attribute_loads), "
                                "(SELECT count(*) FROM customer_attributes)")[0]
    assert counts == (0, 0)


def numbers_under_ten(cells: list[str]) -> list[str]:
    return [c for c in cells if re.fullmatch(r"[0-9]", c.strip())]


def test_generated_customers_flow_to_breakdowns_with_small_cells_suppressed(database_url, tmp_path, capsys):
    export, crm = tmp_path / "lgs_synthetic_export.csv", tmp_path / "crm_synthetic.csv"
    assert cli.main(["generate", "--rows", "30000", "--seed", "3", "--out", str(export),
                     "--customers", str(crm)]) == 0
    assert cli.main(["load", "--quiet", str(export)]) == 0
    assert cli.main(["load-customers", str(crm)]) == 0
    assert "dropped unread: Email (personal)" in capsys.readouterr().out
    assert cli.main(["build", "--quiet"]) == 0

    from lgs_analytics.analytics import demographics
    from lgs_analytics.jobs.page import published
    from lgs_analytics.report import who

    page = published()
    listed = page.campaign
    assert listed["age_band"].notna().mean() > 0.7 and listed["customer_type"].notna().all()
    # the report
    markup = who.section(page).data
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", markup)
    assert SUPPRESSED.replace("<", "&lt;") in cells and "By age band (from the CRM)" in markup
    for by in ("age_band", "gender", "region", "customer_type"):
        table = demographics.breakdown(listed, by)
        counted = ("customers", "churn_alerts", *listed["segment"].unique())
        assert is_suppressed_safe(table, counted), by
        assert numbers_under_ten(table[list(counted)].to_numpy().ravel().tolist()) == []
    # the dashboard, and the file it downloads
    from lgs_analytics.dashboard.data import load_board
    from lgs_analytics.dashboard.who import WhoPage

    board = load_board(None)
    page_view = WhoPage(board)
    shown = " ".join(p.object for p in page_view.tables.objects if hasattr(p, "object") and "<table" in
                     str(p.object))
    assert "&lt;10" in shown and not re.search(r"<td>[0-9]</td>", shown)
    for kind in ("wholesale", "trade", "retail"):
        page_view.kind.value = kind
        csv = pd.read_csv(page_view._csv(), dtype=str, keep_default_na=False)
        assert set(csv["breakdown"]) >= {"age_band", "gender", "region"}
        assert numbers_under_ten(csv[["customers", "churn_alerts"]].to_numpy().ravel().tolist()) == []
