"""Loading a folder of exports, or one export file: what `lgs report --load` and `make report` do
before they build. A folder holding nothing gets a generated export, said so; generated and real
exports never load together."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lgs_analytics.ingest.formats import (
    EXPORT_SUFFIXES,
    TEXT_SUFFIX,
    ExportError,
    is_export_file,
    is_synthetic_export,
)

GENERATED_EXPORT_NAME = "lgs_synthetic_export.csv"


def exports_in(folder: Path) -> tuple[list[Path], list[Path]]:
    """(exports, others) of a folder in name order: the files `lgs load` reads, and any other file
    (dot files and a README aside). Weekly exports sort by date when so named."""
    def loadable(path: Path) -> bool:  # a .txt is read as a CSV when named, so it counts here too
        return is_export_file(path) or path.suffix.lower() == TEXT_SUFFIX

    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                   and not p.name.upper().startswith("README"))
    return [p for p in files if loadable(p)], [p for p in files if not loadable(p)]


def files_to_load(folder: Path) -> list[Path]:
    """The exports of ``folder`` (or ``folder`` itself, one export file), checked before anything loads:
    a file that is not an export, or generated exports beside real ones, stop it here."""
    if folder.is_file():  # `lgs report --load week.csv`: the one export, read (or refused) as lgs load would
        return [folder]
    if not folder.exists() and folder.name.lower().endswith(EXPORT_SUFFIXES):
        raise ExportError(f"{folder}: no such file; check the name (a folder of exports is also accepted)")
    folder.mkdir(parents=True, exist_ok=True)
    files, others = exports_in(folder)
    if others:
        more = f" and {len(others) - 5} more" if len(others) > 5 else ""
        names = ", ".join(p.name for p in others[:5]) + more
        raise ExportError(f"{folder} holds files lgs cannot load: {names}; move them out, or save them as "
                          ".csv, .csv.gz, .xlsx, .zip or a pg_dump .sql (.sql.gz) (nothing was loaded)")
    generated = [p.name for p in files if is_synthetic_export(p)]
    if generated and len(generated) < len(files):
        raise ExportError(f"{folder} holds generated (synthetic) exports ({', '.join(generated)}) beside "
                          "real ones: move the generated ones out, and run `lgs db reset --yes` if they were "
                          "loaded, so the report is on real data only (nothing was loaded)")
    return files


def load_folder(folder: Path, rows: int, *, progress: bool = True,
                say: Callable[[str], None] = print) -> None:
    """Load every export in ``folder`` (or ``folder`` itself, when it is one export file), each in a
    transaction of its own. A folder holding nothing gets a generated export of ``rows`` rows first,
    said so; anything else a folder holds that is not an export stops the run before anything loads."""
    from lgs_analytics.ingest.load import load_path

    files = files_to_load(folder)
    if not files:
        from lgs_analytics.synthetic import generate_export, write_export

        target = folder / GENERATED_EXPORT_NAME
        say(f"no export in {folder}: generating a SYNTHETIC one ({rows:,} rows) at {target}; "
            "put the real export there to report on it")
        write_export(generate_export(rows=rows), target)
        files = [target]
    for path in files:
        say(load_path(path, progress=progress).summary())
