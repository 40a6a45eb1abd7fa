"""Writing the files lgs produces (reports, campaign lists, score CSVs, generated exports): only to a
regular file or a new path, and whole or not at all.

An ``--out`` that names a device, a link, a pipe or a socket is refused before anything is written
(as root, a report once replaced ``/dev/full``); a file is written under a hidden working name in
its own folder and renamed over the target only once complete, so a full disk or a kill leaves the
previous file, never half of a new one, and the working file is removed.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def working_name(path: Path, what: str) -> Path:
    """A hidden name beside ``path`` that no other run uses (pid and a random token): two runs
    writing at once never share a working file."""
    return path.with_name(f".{path.stem}.{os.getpid()}-{secrets.token_hex(4)}.{what}")


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))
    for test, name in kinds:
        if test(mode):
            return name
    return "not a regular file"


def check_output(path: Path) -> None:
    """Refuse an output path that exists and is not a regular file, or is a symbolic link."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except NotADirectoryError:  # a file stands where a folder of the path should be: said elsewhere
        return
    if stat.S_ISLNK(mode):
        raise ValueError(f"{path}: is a symbolic link; lgs writes only to regular files or new paths, "
                         "so give the link's target or another path (nothing was written)")
    if not stat.S_ISREG(mode):
        raise ValueError(f"{path}: is {_kind(mode)}; lgs writes only to regular files or new paths, so "
                         "give another path (nothing was written)")


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a working path beside ``path`` (same suffix) to write; it replaces ``path`` once the block
    completes, and is removed if the block fails (a full disk, Ctrl-C)."""
    path = Path(path)
    check_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = working_name(path, f"partial{path.suffix}")
    try:
        yield partial
        check_output(path)  # again: the path may have been replaced meanwhile
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` whole or not at all."""
    with replacing(path) as partial:
        partial.write_text(text, encoding="utf-8")
    return path


# A text cell starting with one of these is a formula to Excel, LibreOffice or Google Sheets (OWASP, "CSV
# injection"): written with a leading single quote, so it is read as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# RFC 4180's line end. Python's csv writer quotes a cell only for the characters of its line end: with "\n",
# a carriage return inside a cell would end the row for a spreadsheet, and start one with what follows.
CSV_LINE_END = "\r\n"


def spreadsheet_safe(frame):
    """A copy of ``frame`` (a DataFrame) whose text cells that a spreadsheet would run as a formula
    (starting with ``= + - @``, a tab or a carriage return) start with a single quote (``'=1+1``);
    numbers, dates and every other cell stay as they are (a negative spend is still a number). Every
    CSV or workbook lgs writes goes through it."""
    import pandas as pd

    def safe(value):
        return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value

    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or isinstance(out[column].dtype, pd.StringDtype):
            out[column] = out[column].map(safe, na_action="ignore")
    return out


def write_csv(frame, path: Path) -> Path:
    """Write a DataFrame as a CSV that is safe to open in a spreadsheet (:func:`spreadsheet_safe`,
    RFC 4180 line ends), whole or not at all."""
    with replacing(path) as partial:
        spreadsheet_safe(frame).to_csv(partial, index=False, lineterminator=CSV_LINE_END)
    return path
