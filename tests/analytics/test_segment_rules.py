"""Segment rules as configuration: the default file, every refusal of a bad one, custom rules, the digest."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from lgs_analytics.analytics import campaign, segments
from lgs_analytics.analytics.segment_rules import (
    SegmentRulesError,
    default_rules,
    parse_rules,
    read_rules,
    rules_from_json,
)
from lgs_analytics.results import BuildParameters
from tests.analytics.test_segments import EXPECTED

DEFAULT_TEXT = (Path(segments.__file__).parent / "segments.toml").read_text(encoding="utf-8")

# Hibernating split in two: its R=1 cells are "Lost", its R=2 cells stay "Hibernating".
SPLIT_TEXT = DEFAULT_TEXT.replace('''name = "Hibernating"
kind = "win back"
r = [1, 2]
f = [1, 2]''', '''name = "Hibernating"
kind = "win back"
r = 2
f = [1, 2]''') + '''
[[segment]]
name = "Lost"
kind = "win back"
cells = ["11", "12"]
description = "Bought rarely, and not for a very long time."
action = "Leave them out of paid campaigns."
'''


def segment(name: str = "All", cells: str = 'r = [1, 5]\nf = [1, 5]', extra: str = "",
            kind: str = "win back") -> str:
    return (f'[[segment]]\nname = "{name}"\nkind = "{kind}"\n{cells}\n'
            f'description = "Everyone."\naction = "Write to them."\n{extra}')


def test_the_default_file_reproduces_the_map_on_all_25_codes() -> None:
    rules = default_rules()
    assert rules.lookup == EXPECTED
    assert rules.names == segments.SEGMENT_NAMES and rules.source == "default"
    codes = pd.Series(list(EXPECTED))
    scored = segments.assign_segments(codes.str[0].astype(int), codes.str[1].astype(int), rules)
    assert scored.tolist() == list(EXPECTED.values())
    # the patterns are today's, character for character
    assert rules.patterns[r"^[1-2][1-2]$"] == "Hibernating" and rules.patterns[r"^5[4-5]$"] == "Champions"
    assert rules.patterns[r"^[1-2]5$"] == "Can't Lose" and rules.patterns[r"^33$"] == "Need Attention"
    assert set(rules.win_back) == {"Can't Lose", "At Risk", "About to Sleep", "Need Attention", "Hibernating"}
    assert segments.segment_table(rules).equals(segments.SEGMENTS)


def test_the_digest_is_of_the_meaning_not_the_spelling() -> None:
    default = default_rules()
    assert re.fullmatch(r"[0-9a-f]{64}", default.digest)
    # the same map with Hibernating's cells listed one by one, comments gone: the same digest
    listed = DEFAULT_TEXT.replace('r = [1, 2]\nf = [1, 2]', 'cells = ["22", "11", 21, "12"]')
    stripped = "\n".join(line for line in listed.splitlines() if not line.startswith("#"))
    assert parse_rules(stripped, "copy.toml").digest == default.digest
    # a changed action, a changed kind, a moved cell, another order: each a different digest
    called = DEFAULT_TEXT.replace("Send a personalised reactivation offer.", "Call.")
    changed = {parse_rules(called, "a").digest,
               parse_rules(DEFAULT_TEXT.replace('name = "Hibernating"\nkind = "win back"',
                                                'name = "Hibernating"\nkind = "keep and grow"'), "b").digest,
               parse_rules(SPLIT_TEXT, "c").digest}
    assert default.digest not in changed and len(changed) == 3
    assert segments.rules_digest() == default.digest == segments.rules_digest(default)


def test_a_recorded_rule_set_reads_back_the_same() -> None:
    rules = parse_rules(SPLIT_TEXT, "/home/x/split.toml")
    back = rules_from_json(rules.as_json())
    assert back == rules and back.digest == rules.digest and back.source == "/home/x/split.toml"
    assert rules.label == f"split.toml ({rules.digest[:12]})"
    parameters = BuildParameters(segment_rules=rules)
    assert parameters.as_json()["segment_rules"]["digest"] == rules.digest
    assert BuildParameters.from_json(parameters.as_json()).segment_rules == rules
    # a build recorded before rules were configurable read back as the default
    assert BuildParameters.from_json({"methods": ["standard"]}).segment_rules == default_rules()


@pytest.mark.parametrize("text, message", [
    ("[[segment]\nname = 1", "segment rules bad.toml: not valid TOML: "),
    (segment(cells="r = [1, 5]\nf = [1, 4]"),
     "segment rules bad.toml: cells 15, 25, 35, 45, 55 are in no segment: every one of the 25 R x F cells "
     "(11 to 55) needs one"),
    (segment(cells="r = [2, 5]\nf = [1, 5]") + segment("Old", 'cells = ["11", "12", "13", "14", "15", "23"]'),
     "segment rules bad.toml: cell 23 is in both All and Old: put each cell in one segment"),
    (segment(cells="r = [2, 5]\nf = [1, 5]") + segment("Old", "r = [1, 2]\nf = [1, 5]"),
     "segment rules bad.toml: cell 21 is in both All and Old; cell 22 is in both All and Old; cell 23 is"),
    (segment(cells="r = [2, 5]\nf = [1, 5]") + segment("Old", 'cells = ["11", "12", "13", "14"]'),
     "segment rules bad.toml: cell 15 is in no segment"),
    (segment(cells="r = [2, 5]\nf = [1, 5]") + segment("All", "r = 1\nf = [1, 5]"),
     "segment rules bad.toml: segment names 'All' are used twice; give each segment its own name"),
    (segment(extra='colour = "red"\n'), "segment rules bad.toml: segment 'All': unknown key 'colour' (a "
                                        "segment has name, kind, r, f, cells, description, action)"),
    ("title = \"mine\"\n" + segment(), "segment rules bad.toml: unknown key 'title' at the top; the file "
                                      "holds only [[segment]] tables"),
    ("", "segment rules bad.toml: no [[segment]] tables"),
    (segment(kind="save"), "segment rules bad.toml: segment 'All': kind = \"save\"; give kind = \"win back\" "
                           "or kind = \"keep and grow\""),
    (segment().replace('name = "All"\n', ""), "segment rules bad.toml: segment 1 has no name"),
    (segment(cells="r = [0, 5]\nf = [1, 5]"), "segment rules bad.toml: segment 'All': r = [0, 5] is outside "
                                              "the scores 1-5"),
    (segment(cells="r = [1, 5]\nf = [1, 6]"), "segment 'All': f = [1, 6] is outside the scores 1-5"),
    (segment(cells="r = [5, 1]\nf = [1, 5]"), "segment 'All': r = [5, 1] runs backwards; write [1, 5]"),
    (segment(cells="r = [1.5, 5]\nf = [1, 5]"), "segment 'All': r = [1.5, 5] is not a score or a [low, high] "
                                                "range of whole numbers"),
    (segment(cells='r = "1-5"\nf = [1, 5]'), "segment 'All': r = \"1-5\" is not a score"),
    (segment(cells="r = [1, 3, 5]\nf = [1, 5]"), "segment 'All': r = [1, 3, 5] is not a score"),
    (segment(cells="r = [1, 5]"), "segment 'All': give both r and f (a block of cells), or list them"),
    (segment(cells=""), "segment 'All' has no cells; give r and f"),
    (segment(cells='cells = ["16", "x", 7]'), "segment 'All': cells \"16\", \"x\", 7 are not R x F codes"),
    (segment(cells='cells = ["11", "11"]'), "segment 'All': cells 11 are listed twice"),
    (segment(cells='r = 1\nf = 1\ncells = ["11"]'), "segment 'All': cells 11 are both in its r x f block"),
    (segment().replace('description = "Everyone."\n', ""),
     "segment rules bad.toml: segment 'All' has no description; give it description = \"...\""),
    (segment().replace('action = "Write to them."', 'action = "  "'),
     "segment rules bad.toml: segment 'All' has no action; give it action = \"...\""),
])
def test_every_bad_map_is_refused_in_one_line_naming_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(SegmentRulesError) as refused:
        parse_rules(text, "bad.toml")
    said = str(refused.value)
    assert message in said and "\n" not in said
    assert isinstance(refused.value, ValueError)  # the CLI shows every ValueError as one line


def test_a_file_that_cannot_be_read_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(SegmentRulesError, match=r"^segment rules .*nowhere.toml: no such file; give the"):
        read_rules(tmp_path / "nowhere.toml")
    (tmp_path / "latin.toml").write_bytes(b"# caf\xe9\n")
    with pytest.raises(SegmentRulesError, match=r"latin.toml: cannot be read \(not UTF-8 text\)$"):
        read_rules(tmp_path / "latin.toml")


def test_a_custom_map_scores_summarises_and_ranks_by_its_own_segments() -> None:
    rules = parse_rules(SPLIT_TEXT, "split.toml")
    r, f = pd.Series([1, 2, 1, 5]), pd.Series([2, 1, 5, 5])
    scored = segments.assign_segments(r, f, rules)
    assert scored.tolist() == ["Lost", "Hibernating", "Can't Lose", "Champions"]
    table = pd.DataFrame({"customer_id": [1, 2, 3], "recency": [400, 200, 300], "frequency": [1, 2, 1],
                          "monetary": [10.0, 30.0, 20.0], "segment": ["Lost", "Hibernating", "Lost"]})
    summary = segments.segment_summary(table, rules).set_index("segment")
    assert len(summary) == 11 and summary.loc["Lost", "customers"] == 2
    assert summary.loc["Lost", "revenue"] == 30.0
    assert summary.loc["Lost", "action"].startswith("Leave them out")
    # win back first, by money at stake, ties in the file's order (Hibernating before Lost), then the
    # win-back segments with none in the file's order, then keep-and-grow (Champions first)
    order = segments.act_order(pd.Series({"Lost": 30.0, "Hibernating": 30.0, "Champions": 99.0}), rules)
    assert order.sort_values().index.tolist()[:7] == [
        "Hibernating", "Lost", "Need Attention", "About to Sleep", "At Risk", "Can't Lose", "Champions"]
    with pytest.raises(ValueError, match="unknown segments \\['Lost'\\]"):
        segments.segment_summary(table)  # the default rules know no "Lost"


def test_the_action_plan_takes_win_back_from_the_rules() -> None:
    rules = parse_rules(DEFAULT_TEXT.replace('name = "Champions"\nkind = "keep and grow"',
                                             'name = "Champions"\nkind = "win back"'), "odd.toml")
    listed = pd.DataFrame({"segment": ["Champions"], "action": ["Reward"], "priority": [1], "spend": [50.0],
                           "clv_12m": [80.0], "churn_risk": [False], "churn_group": [""],
                           "value_at_risk": [0.0]})
    assert campaign.action_plan(listed)["kind"].tolist() == ["keep and grow"]
    plan = campaign.action_plan(listed, rules)
    assert plan["kind"].tolist() == ["win back"] and plan["money_at_stake"].tolist() == [50.0]


def test_the_active_rules_follow_lgs_segments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LGS_SEGMENTS", raising=False)
    assert segments.active_rules() is default_rules()
    path = tmp_path / "split.toml"
    path.write_text(SPLIT_TEXT, encoding="utf-8")
    monkeypatch.setenv("LGS_SEGMENTS", str(path))
    assert segments.active_rules().names[-1] == "Lost" and segments.active_rules().source == str(path)
    assert segments.rules_digest() == parse_rules(SPLIT_TEXT).digest != default_rules().digest
    assert BuildParameters().segment_rules.digest == segments.rules_digest()
    path.write_text(SPLIT_TEXT.replace('name = "Lost"', 'name = "Gone"') + "\n", encoding="utf-8")
    assert segments.active_rules().names[-1] == "Gone"  # read again once the file changed
    path.write_text(segment(cells="r = 1\nf = 1"), encoding="utf-8")
    with pytest.raises(SegmentRulesError, match="cells 12, 13, .*, 55 are in no segment"):
        segments.active_rules()
