"""Fuzzing the readers with a time bound (issue 13): every input, however hostile, ends in a load, a
quarantine or a one-line refusal (ExportError) within seconds; never a hang or another exception.

The budget is small in ``make test`` (FUZZ_EXAMPLES examples a target, a few seconds each); set
``LGS_FUZZ_EXAMPLES`` (``make fuzz``) for a longer run. A hang is caught by an alarm, so a reader
looping in Python fails the example instead of blocking the suite (one looping in C would block
it; the end-to-end target runs each load in the test's process, with the same alarm).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import io
import os
import signal
import zipfile
from pathlib import Path

import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lgs_analytics.config import EXPORT_COLUMNS
from lgs_analytics.ingest.formats import ExportError
from lgs_analytics.ingest.readers import read_chunks
from lgs_analytics.ingest.validate import TEXT_COLUMNS, type_rows

FUZZ_EXAMPLES = int(os.environ.get("LGS_FUZZ_EXAMPLES", "40"))
SECONDS = 10  # the time bound of one input (the inputs are small: one takes milliseconds)
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, report_multiple_bugs=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_bound(seconds: float = SECONDS):
    def alarm(*_args):
        raise Hang(f"no outcome within {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def outcome(path: Path) -> tuple[int, int] | str:
    """(rows loadable, rows and lines quarantined), or the refusal: what `lgs load` would do."""
    loadable = quarantined = 0
    try:
        with time_bound():
            for chunk in read_chunks(path):
                typed, reason = type_rows(chunk.table)
                refused = pc.not_equal(reason, "")
                good = typed.filter(pc.invert(refused))
                for name in TEXT_COLUMNS:  # nothing Postgres cannot store is ever loaded
                    values = good.column(name)
                    assert not pc.any(pc.fill_null(pc.match_substring(values, "\x00"), False)).as_py()
                loadable += good.num_rows
                quarantined += pc.sum(refused).as_py() or 0
                quarantined += len(chunk.bad_lines)
    except ExportError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith(str(path)[:20]), message
        return message
    return loadable, quarantined


# --- CSV -----------------------------------------------------------------------------------------

HEADER = ",".join(EXPORT_COLUMNS)
GOOD = "489434,85048,GLASS BALL,12,2009-12-01 07:45:00,6.95,13085,United Kingdom"
nasty = st.sampled_from(["", ",", '"', '""', "\n", "\r\n", "\r", "\x00", "é", "\xa0", "\ufeff", "€",
                         "\\", ";", "\t", "13/1/2011", "-1", "0", "X123", "1e999", "NaN", " "])
fields = st.lists(st.one_of(nasty, st.text(max_size=8), st.sampled_from(GOOD.split(","))), max_size=10)
lines = st.one_of(st.just(GOOD), fields.map(",".join), st.text(max_size=30))


@st.composite
def csv_bytes(draw) -> bytes:
    header = draw(st.one_of(st.just(HEADER), st.just(HEADER.lower().replace(" ", "_")),
                            lines, st.just(HEADER + ",Email")))
    body = draw(st.lists(lines, max_size=25))
    text = "\n".join([header, *body]) + draw(st.sampled_from(["\n", "", "\r\n"]))
    data = text.encode("utf-8")
    cut = draw(st.one_of(st.none(), st.integers(0, max(0, len(data)))))  # a copy that stopped
    data = data[:cut] if cut is not None else data
    if draw(st.booleans()):  # a few raw bytes anywhere: not UTF-8, cut characters, NULs
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=4)) + data[at:]
    return data


@FUZZ
@given(data=csv_bytes(), suffix=st.sampled_from([".csv", ".csv.gz", ".txt", ".zip"]))
def test_any_csv_ends_in_a_load_a_quarantine_or_a_one_line_refusal(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"export{suffix}"
    if suffix == ".csv.gz":
        path.write_bytes(gzip.compress(data))
    elif suffix == ".zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("export.csv", data)
    else:
        path.write_bytes(data)
    outcome(path)


# --- workbooks -----------------------------------------------------------------------------------

cells = st.one_of(st.none(), nasty, st.text(max_size=10), st.integers(-10**12, 10**12),
                  st.floats(allow_nan=True, allow_infinity=True), st.datetimes(), st.booleans(),
                  st.sampled_from(GOOD.split(",")))


@st.composite
def workbook_bytes(draw) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                     "strings_to_numbers": False, "nan_inf_to_errors": True})
    book.set_properties({"created": dt.datetime(2011, 12, 9)})  # the same bytes for the same draws
    for n in range(draw(st.integers(1, 3))):
        sheet = book.add_worksheet(f"Sheet{n} {draw(st.text('abc ()-_', max_size=5))}".strip())
        top, left = draw(st.integers(0, 3)), draw(st.integers(0, 2))  # a used range below row 1
        header = draw(st.one_of(st.just(list(EXPORT_COLUMNS)), st.lists(cells, max_size=9)))
        for c, name in enumerate(header):
            sheet.write(top, left + c, name)
        for r, values in enumerate(draw(st.lists(st.lists(cells, max_size=9), max_size=12)), start=1):
            for c, value in enumerate(values):
                if value is not None:
                    sheet.write(top + r, left + c, value)
    book.close()
    data = out.getvalue()
    damage = draw(st.sampled_from(["none", "none", "cut", "flip"]))
    if damage == "cut":
        data = data[:draw(st.integers(0, len(data)))]
    elif damage == "flip":
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    return data


@FUZZ
@given(data=workbook_bytes(), zipped=st.booleans())
def test_any_workbook_ends_in_a_load_a_quarantine_or_a_one_line_refusal(tmp_path_factory, data, zipped):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / ("export.zip" if zipped else "export.xlsx")
    if zipped:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("export.xlsx", data)
    else:
        path.write_bytes(data)
    outcome(path)


# --- end to end: what the readers let through, Postgres stores ------------------------------------


@pytest.mark.integration
@settings(FUZZ, max_examples=max(5, FUZZ_EXAMPLES // 4))
@given(data=csv_bytes())
def test_any_csv_loads_reconciled_or_is_refused_in_one_line(database_url, tmp_path_factory, data):
    from lgs_analytics.ingest.load import load_path

    path = tmp_path_factory.mktemp("fuzz") / "export.csv"
    path.write_bytes(data)
    try:
        with time_bound():
            result = load_path(path, progress=False)
    except ExportError as exc:
        assert "\n" not in str(exc)
        return
    assert result.already_loaded or result.rows_read == result.rows_loaded + result.rows_quarantined
