"""Errors in one line: what users, run logs and rejected-file reasons show (never a traceback)."""

from __future__ import annotations

import os
import re
from urllib.parse import unquote

# A password in a connection URL (scheme://user:PASSWORD@, or user:PASSWORD@host with no scheme, as
# a mistyped DATABASE_URL is echoed by libpq) or in a keyword string (password=PASSWORD).
_URL_PASSWORD = re.compile(r"(?<![\w.:/-])((?:[a-z][a-z0-9+.-]*://)?[^\s:/@'\"]*:)[^\s@'\"]+@(?=[^\s@])",
                           re.IGNORECASE)
_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s'\"]+)", re.IGNORECASE)
HIDDEN = "***"


PLACEHOLDERS = ("password@", "<password>@")  # the word itself, in a message's example: no secret


# The secrets lgs is given, by the environment or .env: whatever a library echoes of them is hidden.
SECRET_VARIABLES = ("DATABASE_URL", "LGS_SHOP_URL", "PGPASSWORD", "POSTGRES_PASSWORD",
                    "LGS_DASHBOARD_PASSWORD", "LGS_PSEUDONYM_KEY", "JUPYTER_TOKEN")
URL_VARIABLES = ("DATABASE_URL", "LGS_SHOP_URL")  # connection strings: their password is the secret
# A secret (or a piece of one) shorter than this is left to the connection-string patterns: hiding every
# "y" of a message for a one-letter password would make it unreadable (and such a password is no secret).
SHORTEST_PIECE = 4


def password_of(url: str) -> str:
    """The password a connection string holds: of a URL, everything between the user's ``:`` and the
    LAST ``@`` (a password may hold ``@`` and ``:``); of a keyword string, ``password=``'s value."""
    keyword = _KEYWORD_PASSWORD.search(url)
    if keyword:
        return keyword.group(2).strip("'")
    rest = url.split("://", 1)[-1]
    user_info = rest[:rest.rfind("@")] if "@" in rest else ""
    return user_info.split(":", 1)[1] if ":" in user_info else ""


def known_secrets() -> list[str]:
    """The secrets in the environment, each whole, percent-decoded and cut where a parser may cut it
    (at ``@``, ``:`` or ``/``): a library's message can hold any of these. Longest first."""
    found: set[str] = set()
    for name in SECRET_VARIABLES:
        value = os.environ.get(name, "").strip()
        secret = password_of(value) if name in URL_VARIABLES else value
        for whole in {secret, unquote(secret)}:
            pieces = (whole, *re.split(r"[@:/]", whole))
            found.update(piece for piece in pieces if len(piece) >= SHORTEST_PIECE)
    return sorted(found, key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` with every password of a connection string, and every secret lgs was given (or a
    piece of one), replaced by ``***``: messages, logs and rejected-file reasons never carry a secret."""
    def url(match: re.Match) -> str:
        secret = match.group(0)[len(match.group(1)):]
        return match.group(0) if secret.lower() in PLACEHOLDERS else f"{match.group(1)}{HIDDEN}@"

    for secret in known_secrets():
        text = text.replace(secret, HIDDEN)
    return _KEYWORD_PASSWORD.sub(rf"\g<1>{HIDDEN}", _URL_PASSWORD.sub(url, text))


def first_line(error: BaseException, limit: int | None = None) -> str:
    """The first line of ``error``'s message (cut to ``limit`` characters), or its class name; any
    password in it is hidden."""
    text = redact(str(error).strip())
    line = text.splitlines()[0] if text else error.__class__.__name__
    return line[:limit] if limit is not None else line


class BuildRefused(ValueError):
    """A build that would publish nothing; the last good build stays published (exit 1)."""
