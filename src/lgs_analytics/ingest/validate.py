"""Typing the exported text: every rule that decides whether a row can be loaded.

Vectorised with pyarrow (a million rows in about a second). A row that cannot be
typed gets every reason it fails, joined by "; ", and goes to the quarantine; the
others come out normalised (ISO dates, whole numbers without ".0") for Postgres to
cast. Rules:

- Invoice: required; a float artefact ``489434.0`` is read as ``489434``; digits with at most
  one leading prefix, ``C`` (cancellation) or ``A`` (adjustment); any other letter is refused.
- StockCode: required; ``85048.0`` (a spreadsheet number) is read as ``85048``.
- Quantity and Customer ID: whole numbers, also written ``13085.0``; ``12.5`` or ``1e3``
  are refused. Customer ID may be empty (a guest checkout); an id is a positive number (the
  real ones run 12346-18287), so ``0`` and ``-1`` are refused.
- InvoiceDate: ``YYYY-MM-DD[ HH:MM[:SS]]`` (or with ``T``) or the US ``M/D/YYYY H:MM[:SS]``
  of the UCI CSV, and a real calendar date and time, in the years 1900-2199 (a year 999
  or 9999 is a typing slip, and pandas cannot hold it). ``M/D/YYYY`` is month first: a slash
  date whose first number can only be a day (``13/1/2011``) is refused, and load.py refuses a
  file that also has slash dates it loaded (they were day/month, read swapped).
- Price: a decimal number (``NaN`` and ``Infinity`` are refused), exponent at most two
  digits (``1e999`` would become infinity), under a billion pounds a unit (the marts'
  money columns hold up to 10^12).
- Any value holding a NUL byte is refused (Postgres text cannot store one).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TEXT_COLUMNS = ("invoice", "stock_code", "description", "quantity", "invoice_date", "price",
                "customer_id", "country")

WHOLE_NUMBER = r"^[+-]?\d{1,9}(\.0*)?$"
DECIMAL = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,2})?$"
MAX_PRICE = 1e9
YEARS = (1900, 2199)
ISO_DATE = (r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
            r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?)?$")
US_DATE = (r"^(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})"
           r"(?: (?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?$")
DATE_REASON = "InvoiceDate is not a date (expected YYYY-MM-DD HH:MM or M/D/YYYY H:MM)"
YEAR_REASON = f"InvoiceDate is out of range (years {YEARS[0]}-{YEARS[1]})"
PRICE_RANGE_REASON = f"Price is out of range ({MAX_PRICE:,.0f} or more a unit)"
INVOICE_REASON = "Invoice is not an invoice number"
INVOICE_PREFIX_REASON = ("Invoice has a letter other than the prefixes C (cancellation) and A "
                         "(adjustment)")
CUSTOMER_REASON = "Customer ID is not a positive number (customer IDs are 5-digit numbers)"
NUL_REASON = "contains a NUL byte, which Postgres cannot store"
DAY_FIRST_REASON = ("InvoiceDate is day/month/year (its first number is over 12), but slash dates "
                    "are read as month/day/year")
# A slash date whose first number can only be a day: 13-31 / 1-12 / year.
DAY_FIRST_DATE = r"^(1[3-9]|2\d|3[01])/(0?[1-9]|1[0-2])/\d{4}(?: |$)"


def _blank_to_null(values: pa.Array, trim: bool = True) -> pa.Array:
    values = pc.utf8_trim_whitespace(values) if trim else values
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def _whole_number(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(normalised text, ok) for whole numbers, ``13085.0`` included."""
    ok = pc.fill_null(pc.match_substring_regex(values, WHOLE_NUMBER), False)
    return pc.replace_substring_regex(values, r"\.0*$", ""), ok


DATE_FIELDS = ("y", "m", "d", "H", "M", "S")


def _date_parts(values: pa.Array, pattern: str) -> dict[str, pa.Array]:
    parts = pc.extract_regex(values, pattern)
    # pc.struct_field, not .field(): a row the pattern misses must give null, not ""
    return {name: pc.struct_field(parts, name) for name in DATE_FIELDS}


def _either_date_parts(values: pa.Array) -> dict[str, pa.Array]:
    """The parts of ISO dates, or else of US dates: the US pattern is tried only on the values the ISO
    one misses (an export has one style, so usually on none; each pattern costs 0.2 s a million rows)."""
    parts = _date_parts(values, ISO_DATE)
    missed = pc.and_not(pc.is_null(parts["y"]), pc.is_null(values))
    if not pc.any(missed).as_py():
        return parts
    us = _date_parts(values.filter(missed), US_DATE)
    return {name: pc.replace_with_mask(parts[name], missed, us[name]) for name in DATE_FIELDS}


def _timestamp(values: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(ISO text ``YYYY-MM-DD HH:MM:SS``, ok, year in range) for both date styles; impossible
    dates are not ok."""
    parts = _either_date_parts(values)
    numbers = {}
    for name in DATE_FIELDS:
        text = pc.if_else(pc.equal(parts[name], ""), "0", parts[name])  # absent time of day = 00:00:00
        numbers[name] = pc.cast(text, pa.int32())
    pad = {k: pc.utf8_lpad(pc.cast(v, pa.string()), width=2, padding="0") for k, v in numbers.items()}
    text = pc.binary_join_element_wise(
        pc.binary_join_element_wise(pc.utf8_lpad(pc.cast(numbers["y"], pa.string()), width=4, padding="0"),
                                    pad["m"], pad["d"], "-"),
        pc.binary_join_element_wise(pad["H"], pad["M"], pad["S"], ":"), " ")
    parsed = pc.strptime(text, format="%Y-%m-%d %H:%M:%S", unit="s", error_is_null=True)
    # strptime rolls 30 February over into March: a real date reads back the same.
    same = [pc.equal(pc.year(parsed), numbers["y"]), pc.equal(pc.month(parsed), numbers["m"]),
            pc.equal(pc.day(parsed), numbers["d"]), pc.equal(pc.hour(parsed), numbers["H"]),
            pc.equal(pc.minute(parsed), numbers["M"]), pc.equal(pc.second(parsed), numbers["S"])]
    ok = same[0]
    for check in same[1:]:
        ok = pc.and_(ok, check)
    in_range = pc.fill_null(pc.and_(pc.greater_equal(numbers["y"], YEARS[0]),
                                    pc.less_equal(numbers["y"], YEARS[1])), False)
    return text, pc.fill_null(ok, False), in_range


def _reason(rules: list[tuple[pa.Array, str]]) -> pa.Array:
    """Every failing rule's message per row, joined by '; ' ('' when the row is fine).

    The messages are joined only for the rows that fail (in a usual chunk, none): joining them for
    every row cost 0.45 s a million rows."""
    masks = [pc.fill_null(failed, False) for failed, _ in rules]
    failing = masks[0]
    for mask in masks[1:]:
        failing = pc.or_(failing, mask)
    fine = pa.repeat(pa.scalar("", pa.string()), len(failing))
    if not pc.any(failing).as_py():
        return fine
    texts = [pc.if_else(mask.filter(failing), message, "")
             for mask, (_, message) in zip(masks, rules, strict=True)]
    # (null_handling="skip" would be simpler, but pyarrow 26 then drops rows from the result.)
    joined = pc.binary_join_element_wise(*texts, "; ")
    joined = pc.replace_substring_regex(joined, r"(; ){2,}", "; ")
    joined = pc.replace_substring_regex(joined, r"^(; )+|(; )+$", "")
    return pc.replace_with_mask(fine, failing, joined)


def _not_positive(whole: pa.Array) -> pa.Array:
    """Whole numbers (normalised text) that are zero or negative: ``0``, ``-0``, ``-1``."""
    return pc.match_substring_regex(whole, r"^(-\d+|[+-]?0+)$")


def _has_nul(table: pa.Table) -> pa.Array:
    """Rows with a NUL byte in any exported value (looked for row by row only in a column whose
    bytes hold one: the usual chunk costs a memchr a column)."""
    found = pa.array(np.zeros(table.num_rows, dtype=bool))
    for name in TEXT_COLUMNS:
        values = table.column(name).combine_chunks()
        buffers = values.buffers()
        data = buffers[2] if len(buffers) > 2 else None
        if data is not None and b"\x00" in data.to_pybytes():
            found = pc.or_(found, pc.fill_null(pc.match_substring(values, "\x00"), False))
    return found


def slash_dates(table: pa.Table) -> pa.Array:
    """Which rows' InvoiceDate is a slash date (``M/D/YYYY``, or a day-first one refused)."""
    return pc.fill_null(pc.match_substring(table.column("invoice_date").combine_chunks(), "/"), False)


def type_rows(table: pa.Table) -> tuple[pa.Table, pa.Array]:
    """Normalise a chunk of exported text rows; return it with each row's reason ('' = fine).

    ``table`` has the staging columns (sheet, source_row and :data:`TEXT_COLUMNS`, all text).
    """
    col = {name: _blank_to_null(table.column(name).combine_chunks(), trim=name != "description")
           for name in TEXT_COLUMNS}
    invoice = pc.replace_substring_regex(col["invoice"], r"\.0*$", "")
    stock = pc.replace_substring_regex(col["stock_code"], r"^(\d+)\.0*$", r"\1")
    quantity, quantity_ok = _whole_number(col["quantity"])
    customer, customer_ok = _whole_number(col["customer_id"])
    date_text, date_ok, year_ok = _timestamp(col["invoice_date"])
    price_ok = pc.fill_null(pc.match_substring_regex(col["price"], DECIMAL), False)
    price_value = pc.cast(pc.if_else(price_ok, pc.replace_substring_regex(col["price"], r"^\+", ""), "0"),
                          pa.float64())
    price_in_range = pc.less(pc.abs(price_value), MAX_PRICE)
    missing = {name: pc.is_null(col[name]) for name in TEXT_COLUMNS}
    day_first = pc.fill_null(pc.match_substring_regex(col["invoice_date"], DAY_FIRST_DATE), False)
    reason = _reason([
        (missing["invoice"], "Invoice is empty"),
        (pc.and_not(pc.invert(pc.fill_null(pc.match_substring_regex(invoice, r"^[A-Za-z]?\d+$"), False)),
                    missing["invoice"]), INVOICE_REASON),
        (pc.match_substring_regex(invoice, r"^[BD-Za-z]\d+$"), INVOICE_PREFIX_REASON),
        (missing["stock_code"], "StockCode is empty"),
        (missing["quantity"], "Quantity is empty"),
        (pc.and_not(pc.invert(quantity_ok), missing["quantity"]), "Quantity is not a whole number"),
        (missing["invoice_date"], "InvoiceDate is empty"),
        (pc.and_not(pc.and_not(pc.invert(date_ok), missing["invoice_date"]), day_first), DATE_REASON),
        (pc.and_(date_ok, pc.invert(year_ok)), YEAR_REASON),
        (day_first, DAY_FIRST_REASON),
        (missing["price"], "Price is empty"),
        (pc.and_not(pc.invert(price_ok), missing["price"]), "Price is not a number"),
        (pc.and_(price_ok, pc.invert(price_in_range)), PRICE_RANGE_REASON),
        (pc.and_not(pc.invert(customer_ok), missing["customer_id"]), "Customer ID is not a whole number"),
        (pc.and_(customer_ok, _not_positive(customer)), CUSTOMER_REASON),
        (_has_nul(table), NUL_REASON),
    ])
    typed = pa.table({
        "sheet": table.column("sheet"), "source_row": table.column("source_row"),
        "invoice": invoice, "stock_code": stock, "description": col["description"],
        "quantity": quantity, "invoice_date": date_text, "price": col["price"],
        "customer_id": customer, "country": col["country"],
    })
    return typed, reason
