"""Export parts and repeat numbers: the two halves of a line's identity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from lgs_analytics.ingest.identity import LineNumberer, canonical, line_ids, line_text, number_lines


def lines(*specs):
    """(sheet, invoice, date, price) tuples -> normalised rows."""
    return pd.DataFrame([{"sheet": s, "invoice": i, "stock_code": "85048", "description": "BALL",
                          "quantity": "1", "invoice_date": d, "price": p, "customer_id": "13085",
                          "country": "UK"} for s, i, d, p in specs])


def table(rows: pd.DataFrame) -> pa.Table:
    """Rows as the loader numbers them: an Arrow table, spelled canonically."""
    return canonical(pa.Table.from_pandas(rows, preserve_index=False))


def test_a_new_export_starts_where_dates_go_back_more_than_a_day():
    rows = lines(("", "1", "2010-12-01 08:00:00", "1"), ("", "2", "2010-12-09 08:00:00", "1"),
                 ("", "3", "2010-12-08 23:00:00", "1"),  # back less than a day: same export
                 ("", "1", "2010-12-01 08:00:00", "1"),  # back 8 days: the second export
                 ("", "4", "2010-12-10 08:00:00", "1"))
    part, occurrence = number_lines(table(rows), min_export_rows=3)  # (a real export has 100 rows at least)
    assert part.tolist() == [1, 1, 1, 2, 2]
    assert occurrence.tolist() == [1, 1, 1, 1, 1]  # invoice 1 again, but in another export


def test_one_export_in_no_date_order_is_never_split_so_its_repeats_stay_repeats():
    # A table dump comes in the table's storage order: a date going back is no second export.
    rows = lines(("", "1", "2010-12-09 08:00:00", "1"), ("", "2", "2010-12-01 08:00:00", "1"),
                 ("", "1", "2010-12-09 08:00:00", "1"))
    part, occurrence = LineNumberer(one_export=True).number(table(rows))
    assert part.tolist() == [1, 1, 1] and occurrence.tolist() == [1, 1, 2]
    # as stacked exports: an overlap
    assert number_lines(table(rows), min_export_rows=1)[1].tolist() == [1, 1, 1]


def test_each_sheet_is_numbered_on_its_own():
    rows = lines(("a", "1", "2010-12-09 08:00:00", "1"), ("b", "1", "2010-12-01 08:00:00", "1"))
    part, occurrence = number_lines(table(rows))
    assert part.tolist() == [1, 1] and occurrence.tolist() == [1, 1]


def test_repeats_are_numbered_within_an_export_and_prices_compare_as_numbers():
    rows = lines(("", "1", "2010-12-01 08:00:00", "2.5"), ("", "1", "2010-12-01 08:00:00", "2.50"),
                 ("", "1", "2010-12-01 08:00:00", "3"), ("", "1", "2010-12-01 08:00:00", "2.5"))
    assert number_lines(table(rows))[1].tolist() == [1, 2, 1, 3]


def test_chunks_give_the_same_numbers_as_the_whole_file():
    rows = lines(("", "1", "2010-12-01 08:00:00", "1"), ("", "1", "2010-12-01 08:00:00", "1"),
                 ("", "2", "2010-12-09 08:00:00", "1"), ("", "1", "2010-12-01 08:00:00", "1"),
                 ("", "1", "2010-12-01 08:00:00", "1"), ("", "1", "2010-12-01 08:00:00", "1"),
                 ("", "3", "2010-12-10 08:00:00", "1"))
    whole = number_lines(table(rows), min_export_rows=3)
    numberer = LineNumberer(min_export_rows=3)
    pieces = [numberer.number(table(rows.iloc[a:b])) for a, b in ((0, 2), (2, 4), (4, 7))]
    assert sum((p.tolist() for p, _ in pieces), []) == whole[0].tolist() == [1, 1, 1, 2, 2, 2, 2]
    assert sum((o.tolist() for _, o in pieces), []) == whole[1].tolist() == [1, 2, 1, 1, 2, 3, 1]


def test_canonical_spelling_makes_equal_values_equal_text():
    import pyarrow as pa

    from lgs_analytics.ingest.identity import canonical

    rows = pa.Table.from_pandas(lines(("", "1", "2010-12-01 08:00:00", "2.50"),
                                      ("", "1", "2010-12-01 08:00:00", "1e-3")), preserve_index=False)
    rows = rows.set_column(rows.schema.get_field_index("quantity"), "quantity", pa.array(["+5", "007"]))
    out = canonical(rows)
    assert out.column("price").to_pylist() == ["2.5", "0.001"]
    assert out.column("quantity").to_pylist() == ["5", "7"]
    assert out.column("customer_id").to_pylist() == ["13085", "13085"]


def test_line_id_is_the_md5_of_the_canonical_values_and_the_repeat_number():
    import hashlib

    import numpy as np
    import pyarrow as pa

    from lgs_analytics.ingest.identity import line_ids

    rows = pa.Table.from_pandas(lines(("", "1", "2010-12-01 08:00:00", "2.5"),
                                      ("", "1", "2010-12-01 08:00:00", "2.5")), preserve_index=False)
    ids = line_ids(line_text(rows), np.array([1, 2])).to_pylist()
    # The definition is a contract with every database loaded so far: pin it.
    values = ["1", "85048", "BALL", "1", "2010-12-01 08:00:00", "2.5", "13085", "UK", "1"]
    canonical_text = "\x1f".join(values)
    expected = hashlib.md5(canonical_text.encode()).digest()  # a uuid's 16 bytes
    assert ids[0] == expected and ids[1] != ids[0]
    assert line_ids(line_text(rows), np.array([1, 2])).to_pylist() == ids


# --- a line's identity does not depend on the order of the rows (issue 13 #3) ---------------------


def export_rows(count: int, seed: int) -> pd.DataFrame:
    """One export of ``count`` rows in date order over three weeks, with true repeats."""
    rng = np.random.default_rng(seed)
    invoices = rng.integers(0, max(2, count // 3), count)
    dates = pd.Timestamp("2010-12-01 08:00") + pd.to_timedelta(invoices * 97, unit="min")
    rows = lines(*(("", str(500000 + i), d.isoformat(sep=" "), "1")
                   for i, d in zip(invoices, dates, strict=True)))
    rows["customer_id"] = [str(12346 + i % 7) for i in invoices]
    rows["stock_code"] = [str(20000 + j) for j in rng.integers(0, 3, count)]  # few codes: repeats
    return rows.sort_values("invoice_date", kind="stable").reset_index(drop=True)


def identities(rows: pd.DataFrame) -> list[str]:
    """The file's line ids, as a sorted list (which row carries which repeat number is free)."""

    canonical_rows = table(rows)
    _, occurrence = LineNumberer().number(canonical_rows)
    return sorted(line_ids(line_text(canonical_rows), occurrence).to_pylist())


def test_the_same_rows_shuffled_or_sorted_by_customer_give_the_same_line_ids():
    # The case: 3,000 rows in date order, shuffled, and sorted by customer.
    rows = export_rows(3000, seed=1)
    assert rows.duplicated().sum() > 0  # true repeats, which must all be kept
    in_date_order = identities(rows)
    assert len(set(in_date_order)) == 3000
    for other in (rows.sample(frac=1, random_state=2), rows.sort_values("customer_id", kind="stable"),
                  rows.sort_values(["country", "stock_code"]), rows.iloc[::-1]):
        assert identities(other.reset_index(drop=True)) == in_date_order


@settings(max_examples=40, deadline=None, database=None)
@given(st.integers(1, 400), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_shuffled_rows_give_identical_line_ids(count, seed, shuffle):
    rows = export_rows(count, seed)
    shuffled = rows.sample(frac=1, random_state=shuffle % (2**32 - 1)).reset_index(drop=True)
    assert identities(shuffled) == identities(rows)


def test_a_date_that_goes_back_after_a_short_run_makes_the_rest_one_export():
    # 3 rows in date order, then back: no export is that short, so the file is one export.
    rows = lines(("", "1", "2010-12-01 08:00:00", "1"), ("", "2", "2010-12-09 08:00:00", "1"),
                 ("", "3", "2010-12-10 08:00:00", "1"), ("", "1", "2010-12-01 08:00:00", "1"),
                 *((("", "4", "2010-12-11 08:00:00", "1"),) * 200), ("", "1", "2010-12-01 08:00:00", "1"))
    part, occurrence = number_lines(table(rows))
    assert set(part.tolist()) == {1}
    assert occurrence[[0, 3, len(rows) - 1]].tolist() == [1, 2, 3]


def test_long_date_sorted_runs_are_stacked_exports_chunk_by_chunk():
    first = export_rows(150, seed=3)
    second = export_rows(120, seed=3)  # the same period exported again: an overlap
    rows = pd.concat([first, second], ignore_index=True)
    part, occurrence = number_lines(table(rows))
    assert part.tolist() == [1] * 150 + [2] * 120
    numberer = LineNumberer()
    pieces = [numberer.number(table(rows.iloc[a:b]))
              for a, b in ((0, 140), (140, 200), (200, 270))]
    assert np.concatenate([p for p, _ in pieces]).tolist() == part.tolist()
    assert np.concatenate([o for _, o in pieces]).tolist() == occurrence.tolist()


# --- the repeat counts of a whole file (issue 16: the load was quadratic in its rows) -----------


def test_key_counts_agree_with_a_plain_counter_chunk_by_chunk():
    from collections import Counter

    from lgs_analytics.ingest.identity import KeyCounts

    rng = np.random.default_rng(4)
    counts, expected = KeyCounts(), Counter()
    for _ in range(60):
        chunk = rng.integers(0, 500, rng.integers(1, 80)).astype(np.uint64)
        keys, seen = np.unique(chunk, return_counts=True)
        assert counts.get(keys).tolist() == [expected[k] for k in keys.tolist()]
        counts.add(keys, seen)
        expected.update(chunk.tolist())
    everything = np.arange(500, dtype=np.uint64)
    assert counts.get(everything).tolist() == [expected[k] for k in range(500)]


def test_key_counts_merge_into_a_handful_of_runs_so_each_chunk_costs_the_same():
    # A map rebuilt for every chunk made a 10x file cost 24x; sorted runs of doubling size are
    # merged about log2(keys) times each, and a lookup searches at most that many runs.
    from lgs_analytics.ingest.identity import KeyCounts

    counts = KeyCounts()
    for chunk in range(1000):
        keys = np.arange(chunk * 100, chunk * 100 + 100, dtype=np.uint64)
        counts.add(keys, np.ones(100, dtype=np.int64))
        assert len(counts._runs) <= np.log2(chunk + 1) + 2
    assert sum(len(k) for k, _ in counts._runs) == 100_000


def test_identify_gives_the_defined_line_ids_for_first_copies_and_repeats_chunk_by_chunk():
    # identify hashes every row once as a first copy and again only where it is a repeat: its ids
    # must be the definition's (line_ids of the text and repeat number), across chunks too.
    from lgs_analytics.ingest.identity import identify

    rows = table(lines(("", "1", "2010-12-01 08:00:00", "2.5"), ("", "1", "2010-12-01 08:00:00", "2.50"),
                       ("", "2", "2010-12-01 09:00:00", "1"), ("", "1", "2010-12-01 08:00:00", "2.5")))
    numberer = LineNumberer()
    got = [identify(numberer, rows.slice(0, 2)), identify(numberer, rows.slice(2))]
    occurrence = np.concatenate([g[1] for g in got])
    assert occurrence.tolist() == [1, 2, 1, 3]
    ids = [i for g in got for i in g[2].to_pylist()]
    assert ids == line_ids(line_text(rows), occurrence).to_pylist()
    assert np.concatenate([g[0] for g in got]).tolist() == [1, 1, 1, 1]
