"""Which files are LGS exports (and which of them are generated), and how to open the export
inside one (plain, .gz or .zip).

An export is a CSV, an .xlsx workbook or a plain pg_dump of the ``retail`` table (.sql);
a CSV or a dump may come gzip-compressed (.csv.gz, .sql.gz), and any of the three zipped
alone (.zip). Compressed exports are decompressed as they are read, never to memory or
disk whole (except a zipped workbook, which the xlsx reader needs as a file): memory stays
flat however big the export.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from lgs_analytics.errors import first_line

# The suffixes `lgs load` takes from a folder (double suffixes first: ``.csv.gz`` before ``.gz``).
EXPORT_SUFFIXES: tuple[str, ...] = (".csv.gz", ".sql.gz", ".csv", ".xlsx", ".sql", ".zip")
# Read as a CSV when named explicitly, as since the first loader, but not taken from a folder:
# a folder's notes (README.txt, <file>.reason.txt) are no exports.
TEXT_SUFFIX = ".txt"
KINDS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".sql": "sql"}  # suffix -> the reader
ZIPPED_KINDS = (".csv", ".xlsx", ".sql")
PG_CUSTOM_MAGIC = b"PGDMP"  # the first bytes of a pg_dump custom-format (-Fc) archive
GZIP_MAGIC = b"\x1f\x8b"
# What a damaged .gz or .zip raises midway (pyarrow: OSError; zipfile: BadZipFile, zlib.error).
DECOMPRESSION_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error)


class ExportError(ValueError):
    """The file cannot be read as an LGS export; the message says what to do."""


def export_suffix(path: Path) -> str:
    """The suffix that says what a file is: ``.csv.gz`` for ``Week 1.CSV.GZ``, else the last one."""
    name = path.name.lower()
    return next((s for s in EXPORT_SUFFIXES if name.endswith(s)), path.suffix.lower())


def is_export_file(path: Path) -> bool:
    """Whether `lgs load` reads ``path`` as an export (by its name; a dot file never is)."""
    return (path.is_file() and not path.name.startswith(".")
            and path.name.lower().endswith(EXPORT_SUFFIXES))


# Every generated file (lgs_analytics.synthetic writes them) is marked, so that a report built on
# it says SYNTHETIC DATA: its name holds this word (a CSV has no room for a marker that would not
# change its layout), and a workbook also carries it as a custom document property, which survives
# a rename. The loader reads the marker from here, never importing the generator.
SYNTHETIC_MARK = "synthetic"
WORKBOOK_PROPERTY = "lgs-generator"


def is_synthetic_export(path: Path) -> bool:
    """Whether ``path`` was written by the generator, :func:`lgs_analytics.synthetic.write_export`
    (its name, or a workbook's property)."""
    if SYNTHETIC_MARK in Path(path).name.lower():
        return True
    if Path(path).suffix.lower() != ".xlsx":
        return False
    try:
        with zipfile.ZipFile(path) as book:
            custom = book.read("docProps/custom.xml") if "docProps/custom.xml" in book.namelist() else b""
    except (OSError, zipfile.BadZipFile, KeyError):
        return False
    return WORKBOOK_PROPERTY.encode() in custom


@dataclass(frozen=True)
class Source:
    """The export inside a file as given: what it is, and how to open its bytes."""

    path: Path  # the file as given (its checksum is the batch's)
    kind: str  # "csv", "xlsx" or "sql": which reader reads it
    where: str  # how messages name it: the path, or ``archive.zip [export.csv]``
    compression: str | None = None  # None, "gzip" or "zip"
    member: str | None = None  # the file inside a zip

    @contextlib.contextmanager
    def open(self) -> Iterator[tuple[object, Callable[[], int]]]:
        """(a binary stream of the export's bytes, a function giving how many bytes of the file as
        given have been consumed: the progress of a load)."""
        if self.compression == "zip":
            with self.path.open("rb") as raw, zipfile.ZipFile(raw) as archive, \
                    _open_member(archive, self) as stream:
                yield stream, raw.tell
        elif self.compression == "gzip":
            import pyarrow as pa

            # pyarrow decompresses in C++ as its CSV reader pulls blocks: no Python in the loop.
            with pa.OSFile(str(self.path)) as raw, pa.CompressedInputStream(raw, "gzip") as stream:
                yield stream, raw.tell
        else:
            with self.path.open("rb") as raw:
                yield raw, raw.tell

    @contextlib.contextmanager
    def local_file(self) -> Iterator[Path]:
        """The export as a file of its own (a zipped workbook is extracted to a temporary folder)."""
        if self.compression != "zip":
            yield self.path
            return
        with tempfile.TemporaryDirectory(prefix="lgs-unzip-") as folder:
            target = Path(folder) / Path(self.member).name
            with self.open() as (stream, _), target.open("wb") as out:
                shutil.copyfileobj(stream, out, 1 << 20)
            yield target

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Around reading a compressed export: one found damaged midway (a truncated .gz, a zip member
        failing its CRC) is refused in one line; the load, one transaction, then rolls back."""
        try:
            yield
        except DECOMPRESSION_ERRORS as exc:
            if self.compression is None:
                raise
            what = "gzip file" if self.compression == "gzip" else "zip archive"
            raise ExportError(f"{self.where}: the {what} is damaged ({first_line(exc, 200)}); "
                              "copy or export it again") from None


def find_source(path: Path) -> Source:
    """What export ``path`` holds; ExportError if it cannot hold one (checked before any reading)."""
    if not path.exists():
        raise ExportError(f"{path}: no such file; check the path")
    if path.is_dir():
        if (path / "toc.dat").exists():
            raise ExportError(f"{path}: a pg_dump directory-format dump; {DUMP_ADVICE}")
        raise ExportError(f"{path}: is a folder; name the export files inside it")
    if path.stat().st_size == 0:
        raise ExportError(f"{path}: the file is empty (0 bytes); export it again")
    suffix = export_suffix(path)
    if suffix in KINDS:
        return Source(path, KINDS[suffix], str(path))
    if suffix in (".csv.gz", ".sql.gz"):
        if _head(path)[:2] != GZIP_MAGIC:
            raise ExportError(f"{path}: not a gzip file, though named {suffix}; if it is the plain export, "
                              f"name it {suffix[:-3]}")
        return Source(path, KINDS[suffix[:-3]], str(path), "gzip")
    if suffix == ".zip":
        return _zip_source(path)
    raise ExportError(_unsupported(path, suffix))


DUMP_COMMAND = "pg_dump --data-only --table=retail --file=retail.sql"
DUMP_ADVICE = (f"export the table as a plain SQL dump instead: {DUMP_COMMAND} (or convert an archive: "
               "pg_restore --file=retail.sql ARCHIVE), or as the CSV or .xlsx export")


def _unsupported(path: Path, suffix: str) -> str:
    """The refusal of a file type no reader takes, naming what it looks like when that is clear."""
    head = _head(path)
    if head.startswith(PG_CUSTOM_MAGIC):
        return f"{path}: a pg_dump archive in custom format, which is not read; {DUMP_ADVICE}"
    if head.startswith(GZIP_MAGIC):
        return (f"{path}: a gzip file of unknown content ('{suffix}'); only a gzipped CSV or dump "
                "is read: name it .csv.gz or .sql.gz (zip a workbook instead)")
    return (f"{path}: unsupported file type '{suffix}'; load the .xlsx, .csv or .sql export "
            "(or a .gz or .zip of it)")


def _head(path: Path) -> bytes:
    """The first bytes of a file, which say what it is whatever its name."""
    with path.open("rb") as fh:
        return fh.read(8)


def _zip_source(path: Path) -> Source:
    """The one export inside a zip; refuse a zip with none or several."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [i.filename for i in archive.infolist() if not _zip_clutter(i)]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ExportError(f"{path}: not a readable zip archive ({first_line(exc, 200)}); "
                          "zip the export again") from None
    if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
        raise ExportError(f"{path}: is an .xlsx workbook named .zip; rename it to .xlsx")
    exports = [n for n in names if n.lower().endswith(ZIPPED_KINDS)]
    if len(names) == 1 and len(exports) == 1:
        member = exports[0]
        return Source(path, KINDS[Path(member).suffix.lower()], f"{path} [{member}]", "zip", member)
    held = _listing(names) if names else "no file"
    raise ExportError(f"{path}: the zip holds {held}; zip exactly one export (.csv, .xlsx or .sql) per file")


def _zip_clutter(info: zipfile.ZipInfo) -> bool:
    """Folders, macOS resource forks (``__MACOSX/``) and dot files are not what was zipped."""
    base = info.filename.rstrip("/").rsplit("/", 1)[-1]
    return info.is_dir() or info.filename.startswith("__MACOSX/") or base.startswith(".")


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"{len(names)} files ({shown})" if len(names) > 1 else shown


def _open_member(archive: zipfile.ZipFile, source: Source):
    """The zipped export's stream; one that cannot be opened (encrypted, an unknown compression)
    is a one-line refusal."""
    try:
        return archive.open(source.member)
    except RuntimeError as exc:  # zipfile's "File ... is encrypted, password required for extraction"
        raise ExportError(f"{source.where}: the zip is password-protected; zip the export without "
                          f"a password ({first_line(exc, 120)})") from None
    except NotImplementedError as exc:
        raise ExportError(f"{source.where}: the zip uses a compression that cannot be read "
                          f"({first_line(exc, 120)}); zip it again with the usual (deflate) compression"
                          ) from None
