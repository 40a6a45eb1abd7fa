"""The live cursor's snapshot arithmetic (store/shop.py): after a bounded batch the cursor sees what
it saw and the transactions taken, and still not the others nor those that were running."""

from __future__ import annotations

from lgs_analytics.store.shop import Snapshot, advanced


def visible(snapshot: Snapshot, xid: int) -> bool:
    """pg_visible_in_snapshot for a committed transaction."""
    return xid < snapshot.xmin or (xid < snapshot.xmax and xid not in snapshot.xip)


def test_the_text_form_round_trips():
    assert Snapshot.parse("10:20:12,15").text() == "10:20:12,15"
    assert Snapshot.parse("1:1:") == Snapshot(1, 1, ())


def test_taking_every_new_transaction_moves_the_cursor_to_the_current_snapshot():
    current = Snapshot(100, 110, (100, 104))
    assert advanced(Snapshot(95, 100, ()), current, [101, 103, 108], [101, 103, 108]) == current


def test_a_partial_batch_sees_exactly_what_was_taken_and_before():
    # The cursor before was Snapshot(90, 95, (90, 92)); now 92 is still running, 90 committed since.
    current = Snapshot(92, 120, (92, 105, 118))
    new = [90, 96, 99, 107, 111]  # what current sees and before did not, with rows in the table
    after = advanced(Snapshot(90, 95, (90, 92)), current, new, [90, 96, 99])
    assert after == Snapshot(92, 100, (92,))
    assert [x for x in new if visible(after, x)] == [90, 96, 99]
    assert not visible(after, 92) and not visible(after, 105) and not visible(after, 107)
    assert all(visible(after, x) for x in range(1, 90))  # what the cursor saw before


def test_a_taken_transaction_above_an_untaken_one_keeps_the_untaken_one_unseen():
    current = Snapshot(50, 60, ())
    after = advanced(Snapshot(50, 51, ()), current, [51, 52, 53], [51, 53])
    assert after == Snapshot(52, 54, (52,))
    assert [visible(after, x) for x in (51, 52, 53)] == [True, False, True]


def test_a_partial_batch_below_the_cursor_never_unsees_what_the_cursor_saw():
    # The cursor saw everything below 95 but 90 (running then); 93 was read then. Now 90 has committed,
    # and a batch takes 90 alone: the new cursor must still see 93 (it used to end at 91 and read 93
    # again).
    cursor = Snapshot(90, 95, (90,))
    current = Snapshot(100, 120, ())
    new = [90, 96, 97]
    after = advanced(cursor, current, new, [90])
    assert all(visible(after, x) for x in range(1, 95))  # 90 taken; 91-94 seen before
    assert not visible(after, 96) and not visible(after, 97)
