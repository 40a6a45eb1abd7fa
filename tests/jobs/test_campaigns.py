"""Campaigns with a control group, end to end: recorded, split, exported (treated only) and measured.

- An A/A test on the real file: a campaign recorded as of 2011-06-01 with half its customers kept
  back and nobody contacted must show no effect (both intervals cover 0).
- An injected effect on generated data: after the as-of date every treated customer gets one
  extra order of £150; the estimate moves by exactly that, and its interval covers it and excludes 0.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from lgs_analytics import cli
from lgs_analytics.jobs import campaigns as recorder
from lgs_analytics.store import campaigns as store
from lgs_analytics.store import db
from tests.conftest import write_csv

AA_NAME = "A/A test 2011-06-01"  # chosen once, before any result was seen: the key of the split
AS_OF = dt.date(2011, 6, 1)


def members(name: str) -> pd.DataFrame:
    with db.connect() as conn:
        rows = db.query(conn, "SELECT m.customer_id, m.grp FROM campaign_members m JOIN campaigns c USING "
                              "(campaign_id) WHERE c.name = %s ORDER BY m.customer_id", (name,))
    return pd.DataFrame(rows, columns=["customer_id", "grp"])


@pytest.fixture
def real_db(real_built, monkeypatch):
    """The shared real database, its campaigns removed afterwards (other tests read it as built)."""
    monkeypatch.setenv("DATABASE_URL", real_built)
    yield real_built
    with db.connect() as conn:
        db.query(conn, "DELETE FROM campaigns")


@pytest.mark.integration
def test_an_aa_test_on_the_real_file_shows_no_effect(real_db, tmp_path):
    out = tmp_path / "aa.csv"
    done = recorder.record(AA_NAME, None, False, False, 0.50, 90, AS_OF,
                           write=lambda rows: rows[["customer_id"]].to_csv(out, index=False))
    assert done.as_of == AS_OF and done.build_id is None  # scored as of the past date, in memory
    split = members(AA_NAME)
    written = set(pd.read_csv(out)["customer_id"])
    # The file holds the treated customers only: the control group is never exported.
    assert written == set(split.loc[split["grp"] == "treated", "customer_id"])
    assert len(split) == len(done.treated) + done.control

    [result] = recorder.results(AA_NAME.upper())  # names are matched in any case
    u = result.uplift
    assert u is not None and u.treated.customers + u.control.customers == len(split)
    assert u.share.covers_zero, u.share
    assert u.spend.covers_zero, u.spend
    assert result.sentence.startswith("no measurable effect: ")
    # It names its window and the transactions it was measured on.
    assert result.window_over and result.measured_to == dt.date(2011, 8, 29) and result.days_measured == 90
    assert result.batches == (1,) and result.invoices > 0 and result.lines >= result.invoices
    assert "window 2011-06-01 to 2011-08-29; measured on 90 day(s)" in result.measured_on


@pytest.mark.integration
def test_a_name_is_recorded_once_and_the_split_is_the_same_on_a_rerun(real_db, tmp_path, capsys):
    out = tmp_path / "at-risk.csv"
    args = ["campaign", "--segment", "At Risk", "--name", "Win back", "--control", "20%", "--as-of",
            "2011-06-01", "--out", str(out)]
    assert cli.main(args) == 0
    first = members("Win back")
    assert cli.main(args) == 2
    refused = capsys.readouterr().err.strip()
    assert refused.startswith("lgs: error: a campaign named 'Win back' was recorded on ")
    assert "\n" not in refused
    with db.connect() as conn:
        db.query(conn, "DELETE FROM campaigns WHERE name = 'Win back'")
    assert cli.main(args) == 0
    pd.testing.assert_frame_equal(members("Win back"), first)  # same customers, same groups
    assert set(pd.read_csv(out)["customer_id"]) == set(first.loc[first["grp"] == "treated", "customer_id"])


@pytest.mark.integration
def test_cli_results_name_the_window_and_refuse_an_unknown_name(real_db, tmp_path, capsys):
    assert cli.main(["campaign", "--segment", "Champions", "--name", "Reward", "--control", "50%", "--as-of",
                     "2011-06-01", "--window", "30", "--out", str(tmp_path / "c.csv")]) == 0
    capsys.readouterr()
    assert cli.main(["campaign", "results", "Reward"]) == 0
    shown = capsys.readouterr().out
    assert "Reward (Champions, as of 2011-06-01, control 50%)" in shown
    assert "window 2011-06-01 to 2011-06-30; measured on 30 day(s) to 2011-06-30" in shown
    assert "per customer, 95% CI" in shown
    assert cli.main(["campaign", "results", "Nobody"]) == 2
    assert capsys.readouterr().err.strip() == "lgs: error: no campaign named 'Nobody': recorded are 'Reward'"


@pytest.mark.integration
@pytest.mark.parametrize("control, said", [
    ("0%", "--control 0%: the control group must be more than 0%"),
    ("100%", "--control 100%: the control group must be more than 0%"),
    ("abc", "--control 'abc': give the share kept back as a percentage"),
])
def test_a_bad_control_share_is_refused_in_one_line_before_anything_is_recorded(
        database_url, tmp_path, capsys, control, said):
    out = tmp_path / "x.csv"
    assert cli.main(["campaign", "--segment", "At Risk", "--name", "x", "--control", control,
                     "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"lgs: error: {said}") and "\n" not in err
    assert not out.exists()


def test_control_without_a_name_is_refused_in_one_line(tmp_path, capsys):
    out = str(tmp_path / "x.csv")
    assert cli.main(["campaign", "--segment", "At Risk", "--control", "10%", "--out", out]) == 2
    assert capsys.readouterr().err.strip() == (
        "lgs: error: --control records a campaign with a control group: give it a --name too, e.g. "
        "--name 'At Risk win-back June'")


def test_an_unknown_campaign_command_is_refused_in_one_line(capsys):
    assert cli.main(["campaign", "reslts"]) == 2
    assert capsys.readouterr().err.strip().startswith("lgs: error: unknown campaign command 'reslts'")


ORDER_GBP = 250.0  # the extra order injected: 50 units at £5.00
INJECTED_SHARE = 0.6  # of the treated customers, drawn at random (seed 7, chosen before any run)


@pytest.mark.integration
def test_an_effect_injected_into_generated_data_is_recovered_within_its_interval(database_url, tmp_path):
    import numpy as np

    from lgs_analytics.synthetic import generate_export, write_export

    export = tmp_path / "synthetic_export.csv"
    write_export(generate_export(rows=150_000, seed=3), export)
    assert cli.main(["load", "--quiet", str(export)]) == 0
    as_of = dt.date(2011, 3, 1)
    recorder.record("Spring offer", None, False, False, 0.50, 90, as_of)
    [before] = recorder.results("Spring offer")
    b = before.uplift
    assert b is not None and b.spend.covers_zero and b.share.covers_zero  # nobody treated yet: an A/A

    with db.connect() as conn:
        [(campaign_id,)] = db.query(conn, "SELECT campaign_id FROM campaigns WHERE name = 'Spring offer'")
        outcomes = store.read_outcomes(conn, campaign_id, as_of, as_of + dt.timedelta(days=90))
    treated = outcomes.query("grp == 'treated'")["customer_id"].to_numpy()
    had_ordered = set(outcomes.loc[outcomes["ordered"], "customer_id"])
    rng = np.random.default_rng(7)
    chosen = np.sort(rng.choice(treated, size=round(INJECTED_SHARE * len(treated)), replace=False))
    orders = [[str(900_000 + i), "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "50", "2011-04-15 10:00:00",
               "5.00", f"{c}.0", "United Kingdom"] for i, c in enumerate(chosen)]
    assert cli.main(["load", "--quiet", str(write_csv(tmp_path / "synthetic_injected.csv", orders))]) == 0
    [after] = recorder.results("Spring offer")
    a = after.uplift
    assert a is not None
    spend_effect = ORDER_GBP * len(chosen) / len(treated)  # what the injection added per treated customer
    share_effect = sum(int(c) not in had_ordered for c in chosen) / len(treated)  # the treated it made order
    assert a.spend.estimate == pytest.approx(b.spend.estimate + spend_effect)
    assert a.share.estimate == pytest.approx(b.share.estimate + share_effect)
    assert a.spend.low < spend_effect < a.spend.high and a.spend.low > 0, (spend_effect, a.spend)
    assert a.share.low < share_effect < a.share.high and a.share.low > 0, (share_effect, a.share)
    assert "no measurable effect" not in after.sentence
    assert after.batches == (1, 2) and after.invoices == before.invoices + len(chosen)
    print(f"{b.treated.customers} treated, {b.control.customers} control; "
          f"injected £{spend_effect:.2f} and {share_effect:+.4f}: before {b.spend} {b.share}; "
          f"after {a.spend} {a.share}; {after.sentence}")


@pytest.mark.integration
def test_a_window_that_runs_past_the_data_says_how_far_it_was_measured(real_db):
    recorder.record("November", "At Risk", False, False, 0.30, 90, dt.date(2011, 11, 1))
    [result] = recorder.results("November")
    assert not result.window_over and result.window_last == dt.date(2012, 1, 29)
    assert result.measured_to == dt.date(2011, 12, 9) and result.days_measured == 39  # the file's last day
    assert result.sentence.endswith("The window ends 2012-01-29; measured so far on 39 day(s).")
    assert result.sentence.startswith(("no measurable effect yet: ", "+", "−"))


@pytest.mark.integration
def test_a_split_too_small_to_compare_is_refused_and_nothing_recorded(database_url, tmp_path):
    rows = [[str(500_000 + i), "85123A", "HEART", "4", f"2011-0{m}-10 10:00:00", "2.55", str(c), "France"]
            for i, (c, m) in enumerate([(12345, 1), (12345, 3), (12346, 2), (12347, 4)])]
    assert cli.main(["load", "--quiet", str(write_csv(tmp_path / "three.csv", rows))]) == 0
    written = []
    with pytest.raises(ValueError, match=r"the split of these 3 customers leaves \d treated and \d in "
                                         r"control: too few to compare \(at least 2 each\); nothing"):
        recorder.record("three", None, False, False, 0.5, 90, dt.date(2011, 6, 1), write=written.append)
    assert not written and members("three").empty  # three customers can never make two groups of two
