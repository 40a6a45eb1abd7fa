"""Property-based tests of the parsers: readers (CSV text, header check, spreadsheet cells),
validate.type_rows (whole numbers, prices, dates) and identity.canonical.

No database: every property runs on pyarrow tables or small temporary files.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lgs_analytics.config import EXPORT_COLUMNS
from lgs_analytics.ingest import readers
from lgs_analytics.ingest.formats import ExportError
from lgs_analytics.ingest.identity import canonical
from lgs_analytics.ingest.readers import _cell_text, check_header, read_chunks
from lgs_analytics.ingest.validate import (
    CUSTOMER_REASON,
    DATE_REASON,
    DAY_FIRST_DATE,
    DAY_FIRST_REASON,
    ISO_DATE,
    MAX_PRICE,
    NUL_REASON,
    PRICE_RANGE_REASON,
    TEXT_COLUMNS,
    US_DATE,
    YEAR_REASON,
    YEARS,
    type_rows,
)

# database=None: no .hypothesis/ folder in the checkout; failures print their example instead.
# report_multiple_bugs=False: one shrunk example per failing property keeps a failing run short.
SETTINGS = settings(max_examples=60, deadline=None, database=None, report_multiple_bugs=False,
                    suppress_health_check=[HealthCheck.too_slow])
FEW = settings(SETTINGS, max_examples=25)

GOOD = {"invoice": "489434", "stock_code": "85048", "description": "GLASS BALL", "quantity": "12",
        "invoice_date": "2009-12-01 07:45:00", "price": "6.95", "customer_id": "13085",
        "country": "United Kingdom"}
WHOLE = "Quantity is not a whole number"
ISO_SECONDS = "%Y-%m-%d %H:%M:%S"


def typed_table(column: str, values: list[str]) -> tuple[pa.Table, pa.Array]:
    """type_rows on rows that are GOOD except for ``column``."""
    n = len(values)
    table = pa.table({"sheet": pa.array([""] * n, pa.string()),
                      "source_row": pa.array(range(2, n + 2), pa.int32()),
                      **{c: pa.array(values if c == column else [GOOD[c]] * n, pa.string())
                         for c in TEXT_COLUMNS}})
    return type_rows(table)


def typed(column: str, values: list[str]) -> tuple[list[dict], list[str]]:
    """(typed rows, reasons) as Python lists."""
    rows, reasons = typed_table(column, values)
    return rows.to_pylist(), reasons.to_pylist()


def loadable(column: str, values: list[str]) -> pa.Table:
    """The typed rows as the loader hands them to canonical() (every value valid)."""
    rows, reasons = typed_table(column, values)
    assert reasons.to_pylist() == [""] * len(values), list(zip(values, reasons.to_pylist(), strict=True))
    return rows


# --- whole numbers (Quantity, Customer ID) --------------------------------------------------------

in_range = st.integers(min_value=-10**9 + 1, max_value=10**9 - 1)


@st.composite
def whole_number_spellings(draw) -> tuple[int, str]:
    n = draw(in_range)
    forms = [str(n), f"{n}.0", f"{n}.00", f" {n} "] + ([f"+{n}"] if n >= 0 else [])
    return n, draw(st.sampled_from(forms))


@SETTINGS
@given(st.lists(whole_number_spellings(), min_size=1, max_size=40))
def test_whole_numbers_in_range_type_as_their_digits(spelled):
    numbers, texts = [n for n, _ in spelled], [t for _, t in spelled]
    rows = loadable("quantity", texts)
    assert canonical(rows).column("quantity").to_pylist() == [str(n) for n in numbers]
    # A customer ID is a positive number: 0 and negative ones are refused (issue 13 #17).
    ids = [(n, t) for n, t in spelled if n > 0]
    if ids:
        rows = loadable("customer_id", [t for _, t in ids])
        assert canonical(rows).column("customer_id").to_pylist() == [str(n) for n, _ in ids]
    refused = [t for n, t in spelled if n <= 0]
    if refused:
        assert typed("customer_id", refused)[1] == [CUSTOMER_REASON] * len(refused)
    # type_rows alone already drops the ".0"; only the "+" is left for canonical()
    got = [r["quantity"] for r in typed("quantity", texts)[0]]
    assert got == [t.strip() if t.strip().startswith("+") else str(n) for n, t in spelled]


finite = st.floats(allow_nan=False, allow_infinity=False)


@SETTINGS
@given(st.lists(st.one_of(
    finite.filter(lambda x: not x.is_integer()).map(repr),               # 2.5, 1e-05
    finite.filter(lambda x: not x.is_integer()).map(lambda x: f"{x:.6f}".rstrip("0") + "1"),
    finite.map(lambda x: f"{x:e}"),                                      # 2.500000e+00, 1.000000e+03
    in_range.map(lambda n: f"{n}e0"),                                    # 1e3 style, even when whole
), min_size=1, max_size=40))
def test_fractions_and_exponents_are_not_whole_numbers(texts):
    for column, reason in (("quantity", WHOLE), ("customer_id", "Customer ID is not a whole number")):
        assert typed(column, texts)[1] == [reason] * len(texts)


NUMBER_TEXT = re.compile(r"[+-]?[0-9]{1,9}(\.0*)?")


def without_nul_reason(text: str, reason: str) -> str:
    """The reason a text's own content gives: a NUL byte adds its refusal (Postgres cannot store
    it), which is checked here and taken off."""
    if "\x00" not in text:
        return reason
    assert reason.endswith(NUL_REASON), (text, reason)
    return reason[:-len(NUL_REASON)].rstrip("; ")


@SETTINGS
@given(st.lists(st.text(max_size=12), min_size=1, max_size=40))
def test_arbitrary_text_never_crashes_and_non_numbers_are_refused(texts):
    rows, reasons = typed("quantity", texts)
    trimmed = pc.utf8_trim_whitespace(pa.array(texts, pa.string())).to_pylist()
    for text, clean, row, reason in zip(texts, trimmed, rows, reasons, strict=True):
        reason = without_nul_reason(text, reason)
        if clean == "":
            assert reason == "Quantity is empty"
        elif NUMBER_TEXT.fullmatch(clean):
            assert reason == "" and int(row["quantity"]) == int(float(clean))
        else:
            assert reason == WHOLE, text
    # the same text in every column never crashes either
    table = pa.table({"sheet": [""] * len(texts), "source_row": pa.array(range(len(texts)), pa.int32()),
                      **{c: pa.array(texts, pa.string()) for c in TEXT_COLUMNS}})
    _, reasons = type_rows(table)
    assert len(reasons) == len(texts)


# --- dates ---------------------------------------------------------------------------------------

moments = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 12, 31, 23, 59, 59)
                       ).map(lambda d: d.replace(microsecond=0))


def date_spellings(d: dt.datetime) -> list[str]:
    spelled = [d.strftime(ISO_SECONDS), d.strftime("%Y-%m-%dT%H:%M:%S"),
               f"{d.month}/{d.day}/{d.year} {d.hour}:{d.minute:02d}:{d.second:02d}"]
    if d.second == 0:
        spelled += [d.strftime("%Y-%m-%d %H:%M"), f"{d.month}/{d.day}/{d.year} {d.hour}:{d.minute:02d}"]
    if d.time() == dt.time(0):
        spelled += [d.strftime("%Y-%m-%d"), f"{d.month}/{d.day}/{d.year}"]
    return spelled


@SETTINGS
@given(st.lists(st.one_of(moments, moments.map(lambda d: d.replace(second=0)),
                          moments.map(lambda d: d.replace(hour=0, minute=0, second=0))),
                min_size=1, max_size=30))
def test_iso_and_us_dates_type_to_the_same_iso_text(when):
    texts = [s for d in when for s in date_spellings(d)]
    expected = [d.strftime(ISO_SECONDS) for d in when for _ in date_spellings(d)]
    rows, reasons = typed("invoice_date", texts)
    assert reasons == [""] * len(texts)
    assert [r["invoice_date"] for r in rows] == expected


def python_date(text: str) -> dt.datetime | None | str:
    """The documented rule, read by Python: ISO or US layout, and a real calendar moment in the
    years 1900-2199; "out of range" for a date outside them."""
    for pattern in (ISO_DATE, US_DATE):
        match = re.fullmatch(pattern, text, flags=re.ASCII)
        if match:
            parts = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
            if not YEARS[0] <= parts["y"] <= YEARS[1]:
                return "out of range"
            try:
                return dt.datetime(parts["y"], parts["m"], parts["d"], parts["H"], parts["M"], parts["S"])
            except ValueError:
                return None
    return None


four_digit_dates = st.builds(
    lambda y, m, d, H, M, S, iso: (f"{y:04d}-{m:02d}-{d:02d} {H:02d}:{M:02d}:{S:02d}" if iso
                                   else f"{m}/{d}/{y:04d} {H}:{M:02d}:{S:02d}"),
    st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25), st.integers(0, 60),
    st.integers(0, 60), st.booleans())
# Near-dates in every layout (years 1000-2999 here: the four-digit years have a property of their own).
date_like = st.from_regex(r"\A\s?([12][0-9]{3}|[0-9]{1,2})[-/.][0-9]{1,3}[-/.]([12][0-9]{3}|[0-9]{1,2})"
                          r"([ T][0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2}(\.[0-9]{1,3})?)?)?\s?\Z")


def check_dates(texts: list[str]) -> None:
    rows, reasons = typed("invoice_date", texts)
    trimmed = pc.utf8_trim_whitespace(pa.array(texts, pa.string())).to_pylist()
    for text, clean, row, reason in zip(texts, trimmed, rows, reasons, strict=True):
        reason = without_nul_reason(text, reason)
        if clean == "":
            assert reason == "InvoiceDate is empty"
            continue
        expected = python_date(clean)
        if re.match(DAY_FIRST_DATE, clean):  # 13/1/2011: day first, never read as month first
            assert reason == DAY_FIRST_REASON, (text, reason)
        elif expected is None:
            assert reason == DATE_REASON, (text, row["invoice_date"])
        elif expected == "out of range":  # refused either way; which reason depends on the day too
            assert reason in (DATE_REASON, YEAR_REASON), (text, reason)
        else:
            # A valid date must come out as the ISO text Postgres and pandas both read.
            assert (reason, row["invoice_date"]) == ("", expected.isoformat(sep=" ")), text


@SETTINGS
@given(st.lists(st.one_of(date_like, st.text(max_size=20)), min_size=1, max_size=30))
def test_any_date_text_gives_a_valid_iso_date_or_the_date_reason(texts):
    check_dates(texts)


@SETTINGS
@given(st.lists(four_digit_dates, min_size=1, max_size=10))
def test_any_four_digit_year_gives_a_valid_iso_date_or_the_date_reason(texts):
    # Years outside 1900-2199 (year 0 is none at all) are refused, never loaded mangled.
    check_dates(texts)


# --- canonical spelling --------------------------------------------------------------------------

# Prices as the export has them: up to 13 significant digits, a modest decimal exponent, under
# the billion pounds validate accepts (larger ones are scaled down below it).
prices = st.builds(lambda m, e: Decimal(m).scaleb(e),
                   st.integers(min_value=-10**13 + 1, max_value=10**13 - 1),
                   st.integers(min_value=-8, max_value=6)).map(
    lambda d: d if abs(d) < MAX_PRICE else d.scaleb(-(d.adjusted() - 8)))


def price_spellings(d: Decimal) -> list[str]:
    plain = format(d, "f")
    spelled = [plain, format(d, "e"), format(d, "E"), plain + ("0" if "." in plain else ".00")]
    if d >= 0:
        spelled += ["+" + plain, "00" + plain]
    return spelled


@SETTINGS
@given(st.lists(prices, min_size=1, max_size=20))
def test_canonical_spells_equal_prices_as_one_text_and_keeps_their_value(values):
    for d in values:
        spelled = price_spellings(d)
        out = canonical(loadable("price", spelled)).column("price").to_pylist()
        assert len(set(out)) == 1, (spelled, out)
        assert Decimal(out[0]) == d, (spelled, out)


@SETTINGS
@given(st.lists(st.one_of(whole_number_spellings(), st.tuples(st.none(), prices.map(str))),
                min_size=1, max_size=30))
def test_canonical_is_idempotent(mixed):
    quantities = [t for n, t in mixed if n is not None] or ["12"]
    once = canonical(loadable("quantity", quantities))
    assert canonical(once).equals(once)
    price_texts = [t for n, t in mixed if n is None] or ["6.950"]
    once = canonical(loadable("price", price_texts))
    assert canonical(once).equals(once)


@SETTINGS
@given(st.lists(st.builds(lambda m, e: f"{m}e{e}", st.integers(min_value=1, max_value=10**6),
                          st.integers(min_value=-999, max_value=999)), min_size=1, max_size=20))
def test_a_price_validate_accepts_keeps_its_value(texts):
    rows, reasons = typed_table("price", texts)
    accepted = pc.equal(reasons, "")
    assert set(reasons.filter(pc.invert(accepted)).to_pylist()) <= {"Price is not a number",
                                                                     PRICE_RANGE_REASON}
    out = canonical(rows.filter(accepted)).column("price").to_pylist()
    for text, stored in zip(pa.array(texts).filter(accepted).to_pylist(), out, strict=True):
        # the canonical text is what Postgres stores as unit_price: it must be the exported number
        assert Decimal(stored) == Decimal(text), (text, stored)


# --- readers: CSV text and header ----------------------------------------------------------------

# Values of one CSV field: any text but line breaks (the reader reads no newlines inside values,
# see readers._read_csv) and lone surrogates (not encodable as UTF-8).
field_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"), max_size=15)
tricky = st.sampled_from([",", '"', '""', " , ", "é£€", "☕", "", " ", "NA", "null", "=1+1", "'", ";", "\t"])
csv_row = st.lists(st.one_of(field_text, tricky), min_size=8, max_size=8)


def write_rows(folder: Path, lines: list[list[str] | None], *, terminator: str, bom: bool) -> Path:
    path = folder / "export.csv"
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator=terminator)
        writer.writerow(EXPORT_COLUMNS)
        for line in lines:
            if line is None:
                fh.write(terminator)  # an empty line
            else:
                writer.writerow(line)
    return path


def csv_line(values: list[str]) -> str:
    """The text of one CSV line as the csv module writes it, without its line break."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue()


def read_back(path: Path, block_bytes: int) -> tuple[list[dict], list]:
    with mock.patch.object(readers, "CSV_BLOCK_BYTES", block_bytes):
        chunks = list(read_chunks(path))
    return [r for c in chunks for r in c.table.to_pylist()], [b for c in chunks for b in c.bad_lines]


@SETTINGS
@given(lines=st.lists(st.one_of(csv_row, csv_row.map(lambda r: r[:3]), csv_row.map(lambda r: [*r, "x"])),
                      min_size=1, max_size=25),
       terminator=st.sampled_from(["\n", "\r\n"]), bom=st.booleans(),
       block_bytes=st.sampled_from([512, 4096, 8 << 20]))
def test_csv_values_and_line_numbers_read_back_exactly(lines, terminator, bom, block_bytes):
    with tempfile.TemporaryDirectory() as folder:
        rows, bad = read_back(write_rows(Path(folder), lines, terminator=terminator, bom=bom), block_bytes)
    # A line of eight empty fields (a spreadsheet's blank row) holds nothing and is not a row.
    good = [(n, line) for n, line in enumerate(lines, start=2) if len(line) == 8 and any(line)]
    assert [r["source_row"] for r in rows] == [n for n, _ in good]
    assert [[r[c] for c in TEXT_COLUMNS] for r in rows] == [line for _, line in good]
    assert {r["sheet"] for r in rows} <= {""}
    assert [(b.source_row, b.reason, b.text) for b in bad] == [
        (n, f"line has {len(line)} fields, expected 8", csv_line(line))
        for n, line in enumerate(lines, start=2) if len(line) != 8]


@FEW
@given(lines=st.lists(st.one_of(csv_row, st.none()), min_size=2, max_size=12).filter(
    lambda ls: any(x is None for x in ls[:-1]) and any(x is not None for x in ls)))
def test_csv_line_numbers_stay_exact_after_an_empty_line(lines):
    # Real exports edited by hand can have an empty line in the middle; the rows after it must
    # keep their own line numbers, or the quarantine points at the wrong line.
    with tempfile.TemporaryDirectory() as folder:
        rows, _ = read_back(write_rows(Path(folder), lines, terminator="\n", bom=False), 8 << 20)
    expected = [n for n, line in enumerate(lines, start=2) if line is not None and any(line)]
    assert [r["source_row"] for r in rows] == expected


def random_case(draw, name: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    return "".join(ch.upper() if up else ch.lower() for ch, up in zip(name, flips, strict=True))


@st.composite
def headers(draw) -> list[str]:
    names = draw(st.permutations(EXPORT_COLUMNS))
    pad = st.sampled_from(["", " ", "  "])
    return [draw(pad) + random_case(draw, n) + draw(pad) for n in names]


@SETTINGS
@given(headers())
def test_header_in_any_order_and_case_is_accepted(header):
    assert check_header(header, "f.csv") == ()


@SETTINGS
@given(headers(), st.data())
def test_header_missing_a_column_is_refused_and_names_it(header, data):
    gone = data.draw(st.integers(min_value=0, max_value=7))
    missing = header[gone].strip()
    canonical_name = next(c for c in EXPORT_COLUMNS if c.lower() == missing.lower())
    with pytest.raises(ExportError, match=f"missing {re.escape(canonical_name)}"):
        check_header(header[:gone] + header[gone + 1:], "f.csv")


# --- readers: spreadsheet cells ------------------------------------------------------------------


@SETTINGS
@given(finite)
def test_float_cells_read_back_as_the_same_number(x):
    text = _cell_text(x)
    if x.is_integer():
        assert text == str(int(x)) and "." not in text and "e" not in text
    else:
        assert text == repr(x) and float(text) == x


@SETTINGS
@given(st.integers(min_value=-10**12, max_value=10**12))
def test_int_cells_are_their_digits(n):
    assert _cell_text(n) == str(n)
    assert _cell_text(float(n)) == str(n)  # a spreadsheet number 13085.0 is the id 13085


@SETTINGS
@given(st.lists(st.one_of(st.integers(min_value=-10**9 + 1, max_value=10**9 - 1),
                          st.integers(min_value=-10**9 + 1, max_value=10**9 - 1).map(float)),
                min_size=1, max_size=30))
def test_whole_number_cells_type_as_whole_numbers(cells):
    texts = [_cell_text(c) for c in cells]
    rows = canonical(loadable("quantity", texts))
    assert rows.column("quantity").to_pylist() == [str(int(c)) for c in cells]


@SETTINGS
@given(st.lists(st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 12, 31)),
                min_size=1, max_size=30))
def test_datetime_cells_read_back_and_type_to_the_second(moments_):
    texts = [_cell_text(d) for d in moments_]
    assert [dt.datetime.fromisoformat(t) for t in texts] == moments_
    rows, reasons = typed("invoice_date", texts)
    assert reasons == [""] * len(texts)
    assert [r["invoice_date"] for r in rows] == [d.strftime(ISO_SECONDS) for d in moments_]


@SETTINGS
@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_date_cells_are_iso_dates_at_midnight(day):
    text = _cell_text(day)
    assert text == day.isoformat()
    rows, reasons = typed("invoice_date", [text])
    assert (reasons[0], rows[0]["invoice_date"]) == ("", f"{day.isoformat()} 00:00:00")


@SETTINGS
@given(st.text(min_size=1))
def test_text_cells_are_kept_as_they_are(text):
    assert _cell_text(text) == text
