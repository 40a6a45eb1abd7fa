"""The dashboard server's log: no request path or query string in it, whatever URL a client sends.

Tornado logs every 4xx answer as a WARNING naming the request ("404 GET /customer/12345 (127.0.0.1)"),
and an uncaught exception with the whole request; a hand-made URL can carry a customer ID. Every line
the server prints goes through ``RedactRequests``: a URL or path keeps only a known first segment
("/login", "/static/...") and a query string is never shown ("?REDACTED"). Pure Python (no Panel).
"""

from __future__ import annotations

import logging
import re
import sys

REDACTED = "REDACTED"
# First path segments the server itself routes: safe to show, they name no customer (REDACTED too, so
# redacting twice changes nothing).
KNOWN_SEGMENTS = frozenset({"login", "logout", "liveness", "ws", "static", "autoload.js", "favicon.ico",
                            REDACTED})
# Loggers whose lines name requests: filtered at the logger too, so any handler gets the redacted line.
REQUEST_LOGGERS = ("tornado.access", "tornado.application", "tornado.general")
# Loggers kept to warnings (request lines are INFO for 1xx-3xx answers).
QUIET_LOGGERS = ("tornado.access", "bokeh.server", "bokeh.server.tornado", "bokeh.server.views.ws")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/?\s'\"<>]*)([/?]\S*)?")
# A request line as tornado.access logs it: "404 GET /path (127.0.0.1)". The method is the client's
# word too ("17850 / HTTP/1.1" is a request line): only a real method is shown.
_ACCESS = re.compile(r"^(\d{3}) (\S+)(?= |$)")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
LOOPBACK_HOSTS = re.compile(r"(?i)^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$")
_PATH = re.compile(r"(?<![\w.:/~%-])/\S*")
_CLOSING = "'\"),;]>"


def safe_uri(uri: str) -> str:
    """``uri`` (path and query) with nothing a client chose left in it but a known first segment."""
    tail = len(uri) - len(uri.rstrip(_CLOSING))  # the quote or bracket that closed it in the message
    uri, closing = uri[:len(uri) - tail], uri[len(uri) - tail:]
    path, mark, _query = uri.partition("?")
    parts = path.split("/")
    first = parts[1] if len(parts) > 1 else ""
    if first in KNOWN_SEGMENTS:
        shown = "/" + first + ("/..." if len(parts) > 2 else "")
    else:
        shown = "/" if path in ("", "/") else "/" + REDACTED
    return shown + ("?" + REDACTED if mark else "") + closing


def _url(match: re.Match[str]) -> str:
    """A URL a client sent, with its host (unless this machine's) and its path made safe."""
    host = match[2] if LOOPBACK_HOSTS.match(match[2]) else REDACTED
    return match[1] + host + (safe_uri(match[3]) if match[3] else "")


def redact(message: str) -> str:
    """``message`` with every URL's host and path, every bare path and a request's method made safe."""
    message = _ACCESS.sub(lambda m: f"{m[1]} {m[2] if m[2] in METHODS else REDACTED}", message)
    message = _URL.sub(_url, message)
    return _PATH.sub(lambda m: safe_uri(m.group(0)), message)


class RedactRequests(logging.Filter):
    """Rewrites a record's message in place (so every handler after it sees the redacted text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = RedactRequests()


def configure() -> None:
    """One stderr handler for the server's log (warnings and up), every line redacted; idempotent."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    root = logging.getLogger()
    if not any(getattr(h, "lgs_dashboard", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.lgs_dashboard = True
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    # Bokeh prints through a handler of its own when it was imported before any logging was set up.
    for handler in [*root.handlers, *logging.getLogger("bokeh").handlers]:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
