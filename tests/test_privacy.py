"""Privacy: personal columns never reach Postgres; customer IDs pseudonymised in what leaves it."""

from __future__ import annotations

import hashlib
import hmac
import os

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lgs_analytics import cli, privacy
from lgs_analytics.config import EXPORT_COLUMNS
from lgs_analytics.ingest.formats import ExportError
from lgs_analytics.ingest.load import load_path
from lgs_analytics.ingest.readers import check_header
from lgs_analytics.report import sections
from lgs_analytics.results import Forecast
from lgs_analytics.store import db
from tests.conftest import write_csv

KEY = "a-test-key-of-32-characters-xxxx"
GOOD = ["489434", "85048", "GLASS BALL", "12", "2009-12-01 07:45:00", "6.95", "13085.0", "United Kingdom"]
PERSON = {"Customer Name": "Ada Lovelace", "E-mail": "ada@example.org", "Phone": "+44 20 7946 0018",
          "Address": "12 Analytical Row, London NW1"}


@pytest.fixture
def key(monkeypatch) -> bytes:
    monkeypatch.setenv(privacy.ENV_PSEUDONYM_KEY, KEY)
    return privacy.pseudonym_key()


# --- which columns are personal ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Email", "E-mail", "email_address", "Customer Name", "FirstName",
                                  "Surname Name", "Phone", "Telephone", "Mobile", "Address", "Street", "City",
                                  "Post Code", "ZIP", "Date of Birth", "DOB", "Fax", "Card Number", "IBAN"])
def test_personal_columns_are_recognised(name):
    assert privacy.is_personal_column(name)


@pytest.mark.parametrize("name", [*EXPORT_COLUMNS, "Warehouse", "Discount", "Channel", "Currency"])
def test_export_and_business_columns_are_not_personal(name):
    assert not privacy.is_personal_column(name)


def test_header_allows_personal_columns_and_names_them_but_refuses_other_extras():
    header = ["Email", *EXPORT_COLUMNS[:4], "Phone", *EXPORT_COLUMNS[4:]]
    assert check_header(header, "f.csv") == ("Email", "Phone")
    with pytest.raises(ExportError, match="unexpected Warehouse"):
        check_header([*header, "Warehouse"], "f.csv")


# --- personal columns never reach Postgres -------------------------------------------------------


def everything_stored() -> str:
    """Every value of every lgs table, as one text (to search for personal data)."""
    with db.connect() as conn:
        names = [r[0] for r in db.query(conn, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return "\n".join(str(db.query(conn, f'SELECT * FROM "{name}"')) for name in names)


def with_person(rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """Export rows with the personal columns interleaved (as a CRM-joined export might have them)."""
    header = ["Customer Name", *EXPORT_COLUMNS[:3], "E-mail", *EXPORT_COLUMNS[3:], "Phone", "Address"]
    out = []
    for row in rows:
        values = dict(zip(EXPORT_COLUMNS, row, strict=True)) | PERSON
        out.append([f'"{values[h]}"' if "," in values[h] else values[h] for h in header])
    return header, out


@pytest.mark.integration
def test_csv_personal_columns_are_dropped_before_postgres(database_url, tmp_path):
    header, rows = with_person([GOOD, GOOD[:3] + ["12.5"] + GOOD[4:]])
    path = write_csv(tmp_path / "crm.csv", rows, header=",".join(header))
    with path.open("a", encoding="utf-8") as fh:  # a broken line: withheld, it mixes in personal fields
        fh.write("489435,Ada Lovelace,ada@example.org\n")
    result = load_path(path, progress=False)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 1, 2)
    assert result.dropped_columns == ("Customer Name", "E-mail", "Phone", "Address")
    assert "personal columns not stored: Customer Name, E-mail, Phone, Address" in result.summary()
    stored = everything_stored()
    for value in PERSON.values():
        assert value not in stored
    assert "Lovelace" not in stored and "example.org" not in stored
    with db.connect() as conn:
        assert db.query(conn, "SELECT dropped_columns FROM load_batches") == [
            (["Customer Name", "E-mail", "Phone", "Address"],)]
        reasons = db.query(conn, "SELECT reason, raw_values FROM quarantine ORDER BY source_row")
    assert reasons[0][0] == "Quantity is not a whole number" and set(reasons[0][1]) == set(EXPORT_COLUMNS)
    assert reasons[1] == ("line has 3 fields, expected 12",
                          {"line": "(line withheld: the file carries personal columns)"})


@pytest.mark.integration
def test_xlsx_personal_columns_are_dropped_before_postgres(database_url, tmp_path):
    import xlsxwriter

    header, _ = with_person([GOOD])
    values = dict(zip(EXPORT_COLUMNS, GOOD, strict=True)) | PERSON
    path = tmp_path / "crm.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Year 2009-2010")
    sheet.write_row(0, 0, header)
    sheet.write_row(1, 0, [values[h] for h in header])
    book.close()
    result = load_path(path, progress=False)
    assert result.rows_loaded == 1
    assert result.dropped_columns == ("Address", "Customer Name", "E-mail", "Phone")
    stored = everything_stored()
    assert not any(value in stored for value in PERSON.values())


# --- pseudonyms ----------------------------------------------------------------------------------


def test_pseudonym_is_a_keyed_hash_of_the_id(key):
    expected = "P" + hmac.new(KEY.encode(), b"13085", hashlib.sha256).hexdigest()[:12]
    assert privacy.pseudonym(13085, key) == expected
    assert privacy.pseudonym(13085, b"another-key-of-enough-length") != expected
    # A plain (unkeyed) hash of the ID, which anyone could recompute, is not what is shown.
    assert expected[1:] not in hashlib.sha256(b"13085").hexdigest()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(10_000, 99_999), min_size=1, max_size=50))
def test_pseudonyms_are_stable_distinct_and_keep_missing_ids(ids):
    key = KEY.encode()
    series = pd.Series([*ids, None], dtype="Int64")
    first, again = privacy.pseudonymise_ids(series, key), privacy.pseudonymise_ids(series, key)
    assert first.equals(again) and first.iloc[-1] is pd.NA
    assert first.iloc[:-1].str.fullmatch(r"P[0-9a-f]{12}").all()
    assert first.iloc[:-1].nunique() == len(set(ids))  # one pseudonym per customer


def test_frames_are_pseudonymised_by_column_or_index(key):
    frame = pd.DataFrame({"customer_id": [12346, 12347], "monetary": [10.0, 20.0]})
    out = privacy.pseudonymise_customers(frame, key)
    assert list(out["customer_id"]) == [privacy.pseudonym(12346, key), privacy.pseudonym(12347, key)]
    assert list(frame["customer_id"]) == [12346, 12347]  # the input is not changed
    indexed = privacy.pseudonymise_customers(frame.set_index("customer_id"), key)
    assert list(indexed.index) == list(out["customer_id"]) and indexed.index.name == "customer_id"
    assert privacy.pseudonymise_customers(frame, None) is frame


@pytest.mark.parametrize("value", ["", "short", "   fifteen chars"])
def test_a_missing_or_short_key_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv(privacy.ENV_PSEUDONYM_KEY, value)
    with pytest.raises(ValueError, match="LGS_PSEUDONYM_KEY") as info:
        privacy.pseudonym_key()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("value", "on"), [("1", True), ("true", True), ("YES", True), ("0", False),
                                           ("", False), ("no", False)])
def test_pseudonymise_default_comes_from_the_environment(monkeypatch, value, on):
    monkeypatch.setenv(privacy.ENV_PSEUDONYMISE, value)
    assert privacy.pseudonymise_by_default() is on
    args = cli.build_parser().parse_args(["rfm", "--out", "x.csv"])
    assert args.pseudonymise is on
    assert cli.build_parser().parse_args(["rfm", "--out", "x.csv", "--no-pseudonymise"]).pseudonymise is False


def forecast_with_alerts() -> Forecast:
    customers = pd.DataFrame({"churn_risk": [True, True, False]}, index=[14646, 18102, 12346])
    return Forecast(pd.Timestamp("2011-12-10"), 90, customers, pd.DataFrame(),
                    {"total_actual": 1, "total_predicted": 1, "error_pct": 0.0}, 0.1)


def test_churn_alerts_in_the_report_show_pseudonyms_when_asked(key):
    from tests.analytics.test_campaign import listed

    rows = listed()
    rows["customer_id"] = rows["customer_id"].map({1: 12346, 2: 14646, 3: 18102, 4: 12347})
    plain = sections.churn_alert_table(rows, forecast_with_alerts()).data
    assert "<td>14646</td>" in plain and "pseudonymised" not in plain
    hidden = sections.churn_alert_table(rows, forecast_with_alerts(), pseudonymise=True).data
    assert "14646" not in hidden and "18102" not in hidden
    assert f"<td>{privacy.pseudonym(14646, key)}</td>" in hidden
    assert "Customer IDs are pseudonymised" in hidden and KEY not in hidden


@pytest.mark.integration
def test_lgs_rfm_and_predict_csvs_are_pseudonymised(database_url, tmp_path, key, capsys):
    from lgs_analytics.synthetic import generate_export, write_export

    write_export(generate_export(rows=20_000, seed=5), tmp_path / "export_synthetic.csv")
    load_path(tmp_path / "export_synthetic.csv", progress=False)
    assert cli.main(["rfm", "--out", str(tmp_path / "plain.csv")]) == 0
    assert cli.main(["rfm", "--out", str(tmp_path / "hidden.csv"), "--pseudonymise"]) == 0
    assert "(customer IDs pseudonymised)" in capsys.readouterr().out
    plain = pd.read_csv(tmp_path / "plain.csv")
    hidden = pd.read_csv(tmp_path / "hidden.csv")
    assert list(hidden["customer_id"]) == [privacy.pseudonym(c, key) for c in plain["customer_id"]]
    assert hidden.drop(columns="customer_id").equals(plain.drop(columns="customer_id"))
    # The web-app tables inside the database keep the real IDs.
    from lgs_analytics.jobs import build as build_job

    build_job.build()
    with db.connect() as conn:
        assert db.query(conn, "SELECT count(*) FROM customer_rfm WHERE customer_id = %s",
                        (int(plain["customer_id"].iloc[0]),)) == [(1,)]
    predicted = tmp_path / "predictions.csv"
    assert cli.main(["predict", "--out", str(predicted), "--pseudonymise"]) == 0
    predictions = pd.read_csv(predicted)
    assert len(predictions) > 20 and predictions["customer_id"].str.fullmatch(r"P[0-9a-f]{12}").all()


def test_asking_to_pseudonymise_without_a_key_fails_before_any_work(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv(privacy.ENV_PSEUDONYM_KEY, raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    for argv in (["rfm", "--out", str(tmp_path / "x.csv"), "--pseudonymise"], ["report", "--pseudonymise"],
                 ["refresh", "--inbox", str(tmp_path / "in"), "--pseudonymise"]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("lgs: error: pseudonymising customer IDs needs a secret key")
        assert err.count("\n") == 1
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "in").exists()


def _unset_for_the_test(monkeypatch, *names: str) -> None:
    """Unset ``names`` now and again after the test, whoever sets them meanwhile (.env loading)."""
    for name in names:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_the_env_file_is_read_outside_docker_and_the_environment_wins(tmp_path, monkeypatch):
    from lgs_analytics import config

    _unset_for_the_test(monkeypatch, privacy.ENV_PSEUDONYMISE, privacy.ENV_PSEUDONYM_KEY)
    monkeypatch.setenv("LGS_REFRESH_EVERY", "1d")
    env = tmp_path / ".env"
    env.write_text("# settings\nLGS_PSEUDONYMISE=1\nLGS_PSEUDONYM_KEY='a-secret-key-of-our-own-1234'\n"
                   "LGS_REFRESH_EVERY=7d\n")
    config.load_env_file(env)
    assert privacy.pseudonymise_by_default() and privacy.pseudonym_key() == b"a-secret-key-of-our-own-1234"
    assert os.environ["LGS_REFRESH_EVERY"] == "1d"  # as compose: the environment beats the file


def test_every_command_reads_the_env_file_first(tmp_path, monkeypatch, capsys):
    from lgs_analytics import config

    _unset_for_the_test(monkeypatch, privacy.ENV_PSEUDONYMISE, privacy.ENV_PSEUDONYM_KEY)
    (tmp_path / ".env").write_text("LGS_PSEUDONYMISE=1\n")
    monkeypatch.setattr(config, "env_file", lambda: tmp_path / ".env")
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    # Asked (by .env) to pseudonymise without a key: refused before any work.
    assert cli.main(["rfm", "--out", str(tmp_path / "x.csv")]) == 2
    assert "pseudonymising customer IDs needs a secret key" in capsys.readouterr().err


def test_the_placeholder_key_of_env_example_is_refused(monkeypatch):
    example = dict(line.split("=", 1) for line in (config_root() / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    monkeypatch.setenv(privacy.ENV_PSEUDONYM_KEY, example[privacy.ENV_PSEUDONYM_KEY])
    with pytest.raises(ValueError, match="still the placeholder from .env.example"):
        privacy.pseudonym_key()


def config_root():
    from lgs_analytics import config

    return config.project_root()
