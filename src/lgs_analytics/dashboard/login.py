"""Sign-in to the dashboard: Panel's basic-auth login page, with failed sign-ins throttled per address.

Panel's own ``BasicLoginHandler`` answers every guess at once and logs nothing, so a script can try
thousands of passwords a minute. Here each failed sign-in is logged (WARNING: the client address and a
count, never the user name or password typed), and after ``MAX_FAILURES`` failures within ``WINDOW``
seconds the address is refused (HTTP 429, the login page saying when to retry) for ``FIRST_LOCK``
seconds, doubling with each further lock up to ``LONGEST_LOCK``, whatever password it sends meanwhile.
An address is forgotten after ``FORGET`` quiet seconds or a successful sign-in; the table keeps at most
``MAX_CLIENTS`` addresses (the least recently seen go first), so it cannot grow without bound.
"""

from __future__ import annotations

import hmac
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

MAX_FAILURES = 5
WINDOW = 60.0
FIRST_LOCK = 30.0
LONGEST_LOCK = 15 * 60.0
FORGET = 60 * 60.0
MAX_CLIENTS = 10_000

log = logging.getLogger("lgs_analytics.dashboard.login")


@dataclass
class _Client:
    failures: list[float] = field(default_factory=list)  # times of the failures within the window
    locks: int = 0  # locks so far: the next one lasts FIRST_LOCK * 2 ** locks
    locked_until: float = 0.0
    seen: float = 0.0


class LoginThrottle:
    """Failed sign-ins per client address, and how long an address must wait (pure: no Panel)."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW,
                 first_lock: float = FIRST_LOCK, longest_lock: float = LONGEST_LOCK, forget: float = FORGET,
                 max_clients: int = MAX_CLIENTS, clock: Callable[[], float] = time.monotonic):
        self.max_failures, self.window, self.first_lock = max_failures, window, first_lock
        self.longest_lock, self.forget, self.max_clients = longest_lock, forget, max_clients
        self.clock = clock
        self._clients: OrderedDict[str, _Client] = OrderedDict()

    def __len__(self) -> int:
        return len(self._clients)

    def _prune(self, now: float) -> None:
        while self._clients:  # oldest first: stop at the first one still worth keeping
            address, client = next(iter(self._clients.items()))
            if now - client.seen < self.forget or now < client.locked_until:
                break
            del self._clients[address]

    def wait(self, address: str) -> float:
        """Seconds before ``address`` may try again (0 when it may try now)."""
        now = self.clock()
        self._prune(now)
        client = self._clients.get(address)
        return max(0.0, client.locked_until - now) if client else 0.0

    def failed(self, address: str) -> tuple[int, float]:
        """Count a failed sign-in: (failures within the window, seconds locked now; 0 if not locked)."""
        now = self.clock()
        self._prune(now)
        client = self._clients.pop(address, None) or _Client()
        client.seen = now
        client.failures = [t for t in client.failures if now - t < self.window] + [now]
        self._clients[address] = client  # most recently seen last
        while len(self._clients) > self.max_clients:
            self._clients.popitem(last=False)
        count, locked = len(client.failures), 0.0
        if count >= self.max_failures:
            locked = min(self.longest_lock, self.first_lock * 2 ** client.locks)
            client.locks += 1
            client.locked_until = now + locked
            client.failures = []
        return count, locked

    def succeeded(self, address: str) -> None:
        self._clients.pop(address, None)


def _seconds(wait: float) -> int:
    return max(1, math.ceil(wait))


def auth_provider(password: str, login_template: Path, throttle: LoginThrottle | None = None):
    """A Panel ``BasicAuthProvider`` whose login handler checks ``password`` and throttles failures."""
    from panel.auth import BasicAuthProvider, BasicLoginHandler, _validate_next_url
    from panel.io.resources import CDN_DIST
    from panel.io.state import state
    from tornado.escape import url_escape

    throttle = throttle or LoginThrottle()

    class ThrottledLoginHandler(BasicLoginHandler):
        def _page(self, message: str) -> str:
            return self._login_template.render(login_endpoint=self._login_endpoint, errormessage=message,
                                               PANEL_CDN=CDN_DIST)

        def post(self):
            address = self.request.remote_ip or "unknown"
            wait = throttle.wait(address)
            if wait:  # refused unchecked: a locked address learns nothing, even from the right password
                self.set_status(429)
                self.set_header("Retry-After", str(_seconds(wait)))
                self.write(self._page(f"Too many failed sign-ins from your address: try again in "
                                      f"{_seconds(wait)} s."))
                return
            typed = self.get_argument("password", "").encode()
            if hmac.compare_digest(typed, password.encode()):
                throttle.succeeded(address)
                self.set_current_user(self.get_argument("username", "") or "marketing")
                self.redirect(_validate_next_url(self.get_cookie("next_url", state.base_url)))
                return
            count, locked = throttle.failed(address)
            if locked:
                log.warning("dashboard sign-in failed from %s (%d within %d s); that address is refused "
                            "for %d s", address, count, throttle.window, _seconds(locked))
                message = f"Wrong password; too many failed sign-ins: try again in {_seconds(locked)} s."
            else:
                log.warning("dashboard sign-in failed from %s (%d within %d s)", address, count,
                            throttle.window)
                message = "Wrong password."
            self.redirect(self.request.path + "?error=" + url_escape(message))

    class ThrottledAuthProvider(BasicAuthProvider):
        @property
        def login_handler(self):
            ThrottledLoginHandler._login_endpoint = self._login_endpoint
            ThrottledLoginHandler._login_template = self._login_template
            return ThrottledLoginHandler

    return ThrottledAuthProvider(login_template=str(login_template))
