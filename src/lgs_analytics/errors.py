"""Errors in one line: what users, run logs and rejected-file reasons show (never a traceback)."""

from __future__ import annotations


def first_line(error: BaseException, limit: int | None = None) -> str:
    """The first line of ``error``'s message (cut to ``limit`` characters), or its class name."""
    text = str(error).strip()
    line = text.splitlines()[0] if text else error.__class__.__name__
    return line[:limit] if limit is not None else line


class BuildRefused(ValueError):
    """A build that would publish nothing; the last good build stays published (exit 1)."""
