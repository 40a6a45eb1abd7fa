"""Errors in one line: what users, run logs and rejected-file reasons show (never a traceback)."""

from __future__ import annotations

import re

# A password in a connection URL (scheme://user:PASSWORD@, or user:PASSWORD@host with no scheme, as
# a mistyped DATABASE_URL is echoed by libpq) or in a keyword string (password=PASSWORD).
_URL_PASSWORD = re.compile(r"(?<![\w.:/-])((?:[a-z][a-z0-9+.-]*://)?[^\s:/@'\"]*:)[^\s@'\"]+@(?=[^\s@])",
                           re.IGNORECASE)
_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s'\"]+)", re.IGNORECASE)
HIDDEN = "***"


PLACEHOLDERS = ("password@", "<password>@")  # the word itself, in a message's example: no secret


def redact(text: str) -> str:
    """``text`` with every password of a connection string replaced by ``***``: messages, logs and
    rejected-file reasons never carry a secret."""
    def url(match: re.Match) -> str:
        secret = match.group(0)[len(match.group(1)):]
        return match.group(0) if secret.lower() in PLACEHOLDERS else f"{match.group(1)}{HIDDEN}@"

    return _KEYWORD_PASSWORD.sub(rf"\g<1>{HIDDEN}", _URL_PASSWORD.sub(url, text))


def first_line(error: BaseException, limit: int | None = None) -> str:
    """The first line of ``error``'s message (cut to ``limit`` characters), or its class name; any
    password in it is hidden."""
    text = redact(str(error).strip())
    line = text.splitlines()[0] if text else error.__class__.__name__
    return line[:limit] if limit is not None else line


class BuildRefused(ValueError):
    """A build that would publish nothing; the last good build stays published (exit 1)."""
