"""Bounded resources for every reader (CSV, xlsx, pg_dump): hostile files are refused in one line,
in seconds and within memory, and a crash of the native workbook reader is a refusal of the file."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from lgs_analytics.config import EXPORT_COLUMNS
from lgs_analytics.ingest import readers
from lgs_analytics.ingest.chunks import BLANK_RUN_MAX, LINE_MAX_BYTES
from lgs_analytics.ingest.formats import ExportError
from lgs_analytics.ingest.readers import read_chunks
from tests.conftest import write_csv
from tests.ingest.dump_fixture import COPY, HEAD, TAIL, dump_text

GOOD = ["489434", "85048", "GLASS BALL", "12", "2009-12-01 07:45:00", "6.95", "13085", "United Kingdom"]
HEADER = ",".join(EXPORT_COLUMNS).encode() + b"\n"


def rows_read(path: Path) -> int:
    return sum(c.table.num_rows + len(c.bad_lines) for c in read_chunks(path))


# --- workbooks written by hand: the XML in a zip (small files, whatever they declare) ------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
    '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
    'main+xml"/>{sheets}</Types>')
SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/vnd.openxmlformats-'
              'officedocument.spreadsheetml.worksheet+xml"/>')
ROOT_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
             'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
             'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
BOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships"><sheets>{sheets}</sheets></workbook>')
BOOK_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
             'package/2006/relationships">{rels}</Relationships>')
SHEET_REL = ('<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
             'relationships/worksheet" Target="worksheets/sheet{n}.xml"/>')


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet_xml(extra: str = "", dimension: str | None = None) -> str:
    """A sheet with the header and one good row (then ``extra`` rows), declaring ``dimension``."""
    header = "".join(cell(f"{c}1", h) for c, h in zip("ABCDEFGH", EXPORT_COLUMNS, strict=True))
    good = "".join(cell(f"{c}2", v) for c, v in zip("ABCDEFGH", GOOD, strict=True))
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main">{declared}<sheetData><row r="1">{header}</row><row r="2">{good}</row>'
            f'{extra}</sheetData></worksheet>')


def hand_workbook(path: Path, *sheets: str) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        n = range(1, len(sheets) + 1)
        types = "".join(SHEET_TYPE.format(n=i) for i in n)
        z.writestr("[Content_Types].xml", CONTENT_TYPES.format(sheets=types))
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", BOOK.format(sheets="".join(
            f'<sheet name="Sheet{i}" sheetId="{i}" r:id="rId{i}"/>' for i in n)))
        rels = "".join(SHEET_REL.format(n=i) for i in n)
        z.writestr("xl/_rels/workbook.xml.rels", BOOK_RELS.format(rels=rels))
        for i, sheet in zip(n, sheets, strict=True):
            z.writestr(f"xl/worksheets/sheet{i}.xml", sheet)
    return path


def far_row(ref: str, row: int, text: str = "x") -> str:
    return f'<row r="{row}">{cell(ref, text)}</row>'


def test_a_hand_written_workbook_reads(tmp_path):
    assert rows_read(hand_workbook(tmp_path / "ok.xlsx", sheet_xml(dimension="A1:H2"))) == 1


@pytest.mark.parametrize(("sheet", "message"), [
    # the probe's file: a cell at the last one Excel has (the reader asked for 512 GB and aborted)
    (sheet_xml(far_row("XFD1048576", 1048576), "A1:XFD1048576"), re.escape(
        "far.xlsx: sheet 'Sheet1' declares cells up to XFD1048576 (16,384 columns): an export has 8 "
        "columns; save it again with only the export's cells")),
    (sheet_xml(far_row("XFD1048576", 1048576)),
     re.escape("sheet 'Sheet1' has cells up to XFD1048576 (16,384 columns)")),
    (sheet_xml(far_row("BM3", 3)), r"has cells up to BM3 \(65 columns\)"),
    (sheet_xml(dimension="A1:ZZ2"), r"declares cells up to ZZ2 \(702 columns\)"),
    (sheet_xml(far_row("A2000000", 2000000)),
     "down to row 2,000,000, past the 1,048,576 rows a sheet can hold"),
])
def test_a_workbook_reaching_far_is_refused_before_it_is_read(tmp_path, sheet, message):
    path = hand_workbook(tmp_path / "far.xlsx", sheet)
    assert path.stat().st_size < 5000
    started = time.perf_counter()
    with pytest.raises(ExportError, match=message):
        rows_read(path)
    assert time.perf_counter() - started < 2


def test_sheets_spanning_more_cells_than_an_export_are_refused(tmp_path):
    # each sheet alone may be the rows of a whole export; the two would be 16.8 million cells
    full = sheet_xml(far_row("H1048576", 1048576))
    with pytest.raises(ExportError, match=r"the sheets span 16,777,216 cells .* than an export's 12,582,912"):
        rows_read(hand_workbook(tmp_path / "two.xlsx", full, full))


def test_a_long_run_of_empty_rows_in_a_sheet_is_refused(tmp_path):
    path = hand_workbook(tmp_path / "low.xlsx", sheet_xml(far_row("A1048576", 1048576)))
    with pytest.raises(ExportError, match=rf"\[Sheet1\]: more than {BLANK_RUN_MAX:,} empty rows in a row"):
        rows_read(path)


def abort(path: str, conn, memory: int) -> None:
    """Stands in for the workbook reader in its child process: a native abort (SIGABRT)."""
    os.abort()


def test_a_crash_of_the_workbook_reader_is_a_refusal_of_the_file(tmp_path, monkeypatch):
    path = hand_workbook(tmp_path / "ok.xlsx", sheet_xml())
    monkeypatch.setattr(readers, "_WORKBOOK_READER", abort)
    with pytest.raises(ExportError, match=r"ok.xlsx: the workbook reader crashed on this file \(signal 6, "
                                          r"SIGABRT\); open it in Excel and save it again"):
        rows_read(path)


def test_the_workbook_reader_runs_with_its_memory_capped(tmp_path, monkeypatch, capfd):
    cells = "".join(cell(f"{c}{{r}}", v) for c, v in zip("ABCDEFGH", GOOD, strict=True))
    rows = "".join(f'<row r="{r}">{cells.format(r=r)}</row>' for r in range(3, 20_003))
    path = hand_workbook(tmp_path / "rows.xlsx", sheet_xml(rows))
    assert rows_read(path) == 20_001
    capfd.readouterr()
    monkeypatch.setattr(readers, "XLSX_READER_MEMORY", 40 << 20)  # less than the reader has already
    with pytest.raises(ExportError) as refused:
        rows_read(path)
    # the reader's allocation failed: a one-line refusal, and not its backtrace on the terminal
    assert re.search(r"rows.xlsx: (the workbook needs more than 40 MiB|the workbook reader crashed on "
                     r"this file \(signal 6, SIGABRT: memory allocation of \d+ bytes failed\))",
                     str(refused.value)), refused.value
    assert capfd.readouterr().err == ""


# --- one bound for a line or a cell: LINE_MAX_BYTES in every format -----------------------------


def test_a_cell_over_the_bound_is_refused_in_a_workbook(tmp_path):
    big = sheet_xml('<row r="3">' + cell("C3", "X" * (LINE_MAX_BYTES + 10)) + "</row>")
    with pytest.raises(ExportError, match="a cell of sheet 'Sheet1' is longer than 1 MiB"):
        rows_read(hand_workbook(tmp_path / "big.xlsx", big))
    # just under: read
    assert rows_read(hand_workbook(tmp_path / "fits.xlsx", sheet_xml(
        '<row r="3">' + "".join(cell(f"{c}3", v) for c, v in zip("ABCDEFGH", [
            "489435", "85048", "X" * (LINE_MAX_BYTES - 200), *GOOD[3:]], strict=True)) + "</row>"))) == 2


def test_a_row_over_the_bound_is_refused_in_a_workbook(tmp_path):
    half = "X" * (LINE_MAX_BYTES // 2 + 10)  # two cells within the bound, their row past it
    values = ["489435", half, half, *GOOD[3:]]
    row = "".join(cell(f"{c}3", v) for c, v in zip("ABCDEFGH", values, strict=True))
    with pytest.raises(ExportError, match=r"\[Sheet1\]: a row is longer than 1 MiB"):
        rows_read(hand_workbook(tmp_path / "wide.xlsx", sheet_xml(f'<row r="3">{row}</row>')))


def test_a_line_over_the_bound_is_refused_in_a_csv(tmp_path):
    path = write_csv(tmp_path / "long.csv", [GOOD[:2] + ["X" * (LINE_MAX_BYTES + 10)] + GOOD[3:]])
    with pytest.raises(ExportError, match="a line is longer than 1 MiB"):
        rows_read(path)


def test_a_line_over_the_bound_is_refused_in_a_dump(tmp_path):
    long_row = ["489435", "85048", "X" * (LINE_MAX_BYTES + 10), *GOOD[3:]]
    path = tmp_path / "retail.sql"
    path.write_text(dump_text(["\t".join(GOOD), "\t".join(long_row)]), encoding="utf-8")
    with pytest.raises(ExportError, match=r"retail.sql: line \d+ is longer than 1 MiB"):
        rows_read(path)
    # and a line of 20 MiB, which used to load
    longer = long_row[:2] + ["X" * (20 << 20)] + long_row[3:]
    path.write_text(dump_text(["\t".join(GOOD), "\t".join(longer)]), encoding="utf-8")
    with pytest.raises(ExportError, match=r"line \d+ is longer than 1 MiB"):
        rows_read(path)


# --- blank lines: the same bound in every format, refused early ---------------------------------

# The peak is this process's own (VmHWM), not ru_maxrss: Linux carries the parent's resident size at
# the fork into a child's ru_maxrss across exec, so a child of a large test process would report it.
MEASURE = """
import json, re, sys, time
from pathlib import Path
from lgs_analytics.ingest.readers import read_chunks
started = time.perf_counter()
try:
    rows = sum(c.table.num_rows for c in read_chunks(Path(sys.argv[1])))
    outcome = f"read {rows}"
except Exception as exc:
    outcome = str(exc)
peak_kib = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1))
print(json.dumps([outcome, time.perf_counter() - started, peak_kib / 1024]))
"""


def read_in_a_child(path: Path) -> tuple[str, float, float]:
    """(the outcome, seconds, peak MiB) of reading ``path`` in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True,
                          check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    return tuple(json.loads(done.stdout))


def gzipped(path: Path, head: bytes, filler: bytes, count: int, tail: bytes = b"") -> Path:
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(head)
        for _ in range(count):
            out.write(filler)
        out.write(tail)
    return path


def test_a_blank_line_bomb_is_refused_in_seconds_and_within_memory(tmp_path):
    # a header and 64 MiB of line breaks, gzipped to 64 KiB (the probe's 256 MiB took 37 s and 2.1 GB)
    path = gzipped(tmp_path / "bomb.csv.gz", HEADER, b"\n" * (1 << 20), 64)
    outcome, seconds, peak = read_in_a_child(path)
    assert "lines in 8 MiB from byte 0 on are mostly blank lines, so this is no sound export" in outcome
    assert seconds < 3 and peak < 300, (seconds, peak)


def test_blank_lines_in_a_dump_are_refused_the_same_way(tmp_path):
    head = (HEAD + COPY + "\t".join(GOOD) + "\n").encode()
    path = gzipped(tmp_path / "bomb.sql.gz", head, b"\n" * (1 << 20), 64, TAIL.encode())
    outcome, seconds, peak = read_in_a_child(path)
    assert "are mostly blank lines, so this is no sound export" in outcome
    assert seconds < 3 and peak < 300, (seconds, peak)


@pytest.mark.parametrize("empty", [b",,,,,,,\n", b",,,,,,,\r\n"])
def test_a_long_run_of_empty_rows_in_a_csv_is_refused(tmp_path, empty):
    # rows of empty cells, as a spreadsheet saves blank rows: not dense enough to be refused by the
    # stretch, but a run longer than any export has
    path = gzipped(tmp_path / "empty.csv.gz", HEADER + b",".join(g.encode() for g in GOOD) + b"\n",
                   empty * 1000, 1100)
    with pytest.raises(ExportError, match=rf"more than {BLANK_RUN_MAX:,} blank lines in a row \(from line 3"):
        rows_read(path)


def test_a_long_run_of_blank_lines_in_a_dump_is_refused(tmp_path):
    empty_field_rows = "\t".join(["\\N"] * 8) + "\n"  # not dense: a run of rows of empty fields
    text = HEAD + COPY + "\t".join(GOOD) + "\n" + empty_field_rows * (BLANK_RUN_MAX + 1) + TAIL
    path = tmp_path / "retail.sql"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExportError, match=rf"more than {BLANK_RUN_MAX:,} blank lines in a row"):
        rows_read(path)


def test_blank_lines_an_export_may_have_still_load(tmp_path):
    text = HEADER + b",".join(g.encode() for g in GOOD) + b"\n" + b"\n" * 1000 + b",,,,,,,\n" * 1000
    (tmp_path / "few.csv").write_bytes(text + b",".join(g.encode() for g in GOOD) + b"\n")
    assert rows_read(tmp_path / "few.csv") == 2


# --- the weekly refresh: a crashing workbook is rejected, the files after it load ---------------


@pytest.mark.integration
def test_refresh_rejects_a_workbook_that_crashes_the_reader_and_loads_the_rest(database_url, tmp_path,
                                                                             monkeypatch):
    """The probe's workbook aborted `lgs load` (rc 134): every weekly refresh stopped at it."""
    from lgs_analytics.jobs import refresh
    from lgs_analytics.jobs.inbox import RefreshPaths

    paths = RefreshPaths.beside(tmp_path / "data" / "inbox", tmp_path / "reports" / "report.html")
    paths.inbox.mkdir(parents=True)
    hand_workbook(paths.inbox / "a_crash.xlsx", sheet_xml())
    write_csv(paths.inbox / "b_good.csv", [GOOD])
    for age, name in ((2000, "a_crash.xlsx"), (1000, "b_good.csv")):
        os.utime(paths.inbox / name, (time.time() - age, time.time() - age))
    monkeypatch.setattr(readers, "_WORKBOOK_READER", abort)

    def rebuild(paths, **options) -> None:
        options["steps"]["build"] = options["steps"]["report"] = 0.0

    result = refresh.refresh(paths, progress=False, say=lambda *_: None, rebuild=rebuild)
    outcomes = [(f.file, f.outcome) for f in result.files]
    assert outcomes == [("a_crash.xlsx", "rejected"), ("b_good.csv", "loaded")]
    rejected = paths.rejected / result.run_id
    reason = (rejected / "a_crash.xlsx.reason.txt").read_text(encoding="utf-8")
    assert "the workbook reader crashed on this file (signal 6, SIGABRT)" in reason
    assert reason.count("\n") == 1
    assert (rejected / "a_crash.xlsx").exists() and not (paths.inbox / "a_crash.xlsx").exists()


@pytest.mark.parametrize("after", [15_000, 100, 9])
def test_a_quote_left_open_never_swallows_the_rows_after_it_silently(tmp_path, after):
    # The probe's: 15,000 good rows after an unterminated quote loaded as "2 rows read".
    good = "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n"
    opened = '536366,85123A,"unterminated,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n'
    path = tmp_path / "open_quote.csv"
    path.write_text(f"{HEADER.decode()}{good}{opened}{good * after}", encoding="utf-8")
    if after + 1 > 10:
        with pytest.raises(ExportError, match=r"open_quote.csv: the record at line 3 runs over [\d,]+ lines "
                                              r"or more \(a quote left open\?\); close the quote"):
            rows_read(path)
    else:  # a few lines: one bad line, in the quarantine (a value may hold a line break)
        bad = [b for chunk in read_chunks(path) for b in chunk.bad_lines]
        assert len(bad) == 1 and bad[0].reason.startswith("line has 3 fields, expected 8")


def hang(path: str, conn, memory: int) -> None:
    """Stands in for the workbook reader in its child process: a reader that never answers."""
    import time

    time.sleep(60)


def test_a_workbook_reader_that_hangs_is_a_refusal_within_its_limit(tmp_path, monkeypatch):
    import time

    path = hand_workbook(tmp_path / "ok.xlsx", sheet_xml())
    monkeypatch.setattr(readers, "_WORKBOOK_READER", hang)
    monkeypatch.setattr(readers, "XLSX_READER_SECONDS", 2.0)
    started = time.monotonic()
    with pytest.raises(ExportError, match=r"ok.xlsx: the workbook reader gave nothing for 2 s"):
        rows_read(path)
    assert time.monotonic() - started < 20  # the child is killed, not waited for
