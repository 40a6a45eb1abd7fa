"""Serving the dashboard: who may reach it (loopback, or a password), quiet logs, the server.

The access rule: without ``LGS_DASHBOARD_PASSWORD`` the server binds to the loopback interface
only; with it, every page, websocket and download needs the password first (Panel's basic
auth: a login page, then a signed cookie), the password must pass ``passwords.weakness``, and
failed sign-ins are throttled per client address (``login``). Inside a container the server must
bind 0.0.0.0 for the published port to reach it, so the compose service sets the password.
No log line names a request's path or query string (``logs``): a URL can carry a customer ID.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import time
from pathlib import Path

from lgs_analytics import privacy
from lgs_analytics.dashboard import logs, passwords

ENV_DASHBOARD_PASSWORD = "LGS_DASHBOARD_PASSWORD"
MIN_PASSWORD_CHARACTERS = passwords.MIN_PASSWORD_CHARACTERS
LOGIN_TEMPLATE = Path(__file__).with_name("templates") / "login.html"


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and ``localhost``; anything else reaches other machines."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def password_from_env() -> str | None:
    """The dashboard password (``LGS_DASHBOARD_PASSWORD``), None when unset or empty."""
    return os.environ.get(ENV_DASHBOARD_PASSWORD, "").strip() or None


def check_access(host: str, password: str | None) -> None:
    """Refuse (one-line ValueError) a bind beyond loopback without a password, and an unfit password."""
    if password is None:
        if not is_loopback(host):
            raise ValueError(f"--host {host} would serve customer data beyond this machine without a "
                             f"password; set {ENV_DASHBOARD_PASSWORD} (in the environment or .env) or use "
                             "--host 127.0.0.1")
        return
    if password.lower().startswith(privacy.PLACEHOLDER_PREFIX):
        raise ValueError(f"{ENV_DASHBOARD_PASSWORD} is still the placeholder from .env.example; set a "
                         f"secret of your own (e.g. `{passwords.GENERATE}`)")
    refused = passwords.refusal(password, ENV_DASHBOARD_PASSWORD)
    if refused:
        raise ValueError(refused)


def origins(host: str, port: int) -> list[str]:
    """The websocket origins accepted: the loopback names (a container's published port included)."""
    names = {"127.0.0.1", "localhost", host} if is_loopback(host) else {"127.0.0.1", "localhost"}
    return sorted(f"{name}:{port}" for name in names)


def build_server(apps: dict, host: str, port: int, password: str | None, title: str):
    """The Panel server of ``apps`` (not started): the redacted log, and the throttled login if a password."""
    import panel as pn

    from lgs_analytics.dashboard import login

    logs.configure()
    auth = {"auth_provider": login.auth_provider(password, LOGIN_TEMPLATE),
            "cookie_secret": secrets.token_urlsafe(32)} if password else {}
    try:
        return pn.serve(apps, address=host, port=port, title=title, show=False, start=False,
                        websocket_origin=origins(host, port), liveness=True, **auth)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise ValueError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port "
                         "or stop what uses it") from None


WAIT_SECONDS = 10  # `--wait`: how often to look for the first build


def first_board(source, wait: bool, say=print, sleep=time.sleep):
    """The board of the current build. Nothing published: a one-line refusal now (not an error page
    later), or with ``wait`` a look every WAIT_SECONDS until the first build is published (the compose
    service starts beside `report`, which publishes it: restarting on the refusal made a crash loop)."""
    from lgs_analytics.jobs.page import NothingPublished

    said = False
    while True:
        try:
            return source.get()
        except NothingPublished as nothing:
            if not wait:
                raise
            if not said:
                say(f"waiting for the first build ({nothing}); looking every {WAIT_SECONDS} s")
                said = True
            sleep(WAIT_SECONDS)


def serve(host: str, port: int, pseudonymise: bool, say=print, wait: bool = False) -> int:
    """Check access, read the current build, then serve until Ctrl-C (returns the exit code)."""
    password = password_from_env()
    check_access(host, password)
    key = privacy.output_key(pseudonymise)
    from lgs_analytics.dashboard.data import BoardSource

    source = BoardSource(key)
    board = first_board(source, wait, say)
    import panel as pn

    from lgs_analytics.dashboard.app import TITLE, app

    pn.extension("tabulator", notifications=False)
    server = build_server({"/": app(source)}, host, port, password, TITLE)
    say(f"dashboard of build {board.build_id} on http://{host}:{port}/ "
        f"({'password required' if password else 'this machine only, no password'}"
        f"{'; customer IDs pseudonymised' if key else ''}); Ctrl-C stops it")
    try:
        server.start()
        server.io_loop.start()
    except KeyboardInterrupt:
        say("dashboard stopped")
    return 0
