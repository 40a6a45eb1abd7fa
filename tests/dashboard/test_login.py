"""Failed sign-ins throttled per address, and a server log that names no request path or query.

Pure parts on a fake clock; then a stub dashboard (one Markdown pane, no database) served on 127.0.0.1
through ``serve.build_server``, the function `lgs dashboard` serves with: same login, same log set-up.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from lgs_analytics.dashboard import login, logs

PASSWORD = "stub-dashboard-secret-Zq7"
CUSTOMER = "17850"  # a customer ID a hand-made URL might carry
STUB = f"""
import logging, sys
import panel as pn
from lgs_analytics.dashboard import serve
server = serve.build_server({{"/": lambda: pn.pane.Markdown("stub board")}}, "127.0.0.1", int(sys.argv[1]),
                            {PASSWORD!r}, "stub")
logging.getLogger("tornado.access").setLevel(logging.INFO)  # every request line, not only 4xx warnings
server.start()
server.io_loop.start()
"""


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_five_failures_within_a_minute_lock_the_address_for_a_growing_time():
    clock = Clock()
    throttle = login.LoginThrottle(clock=clock)
    assert [throttle.failed("10.0.0.1") for _ in range(4)] == [(1, 0.0), (2, 0.0), (3, 0.0), (4, 0.0)]
    assert throttle.wait("10.0.0.1") == 0.0
    assert throttle.failed("10.0.0.1") == (5, 30.0)
    assert throttle.wait("10.0.0.1") == 30.0 and throttle.wait("10.0.0.2") == 0.0  # per address
    clock.now += 30
    assert throttle.wait("10.0.0.1") == 0.0
    locks = []
    for _ in range(6):
        locks.append([throttle.failed("10.0.0.1") for _ in range(5)][-1][1])
        clock.now += locks[-1]
    assert locks == [60.0, 120.0, 240.0, 480.0, 900.0, 900.0]  # doubling, at most 15 minutes


def test_old_failures_expire_and_a_sign_in_or_a_quiet_hour_forgets_the_address():
    clock = Clock()
    throttle = login.LoginThrottle(clock=clock)
    for _ in range(4):
        throttle.failed("10.0.0.1")
    clock.now += 61
    assert throttle.failed("10.0.0.1") == (1, 0.0)  # only failures within the last minute count
    throttle.succeeded("10.0.0.1")
    assert len(throttle) == 0
    for _ in range(10):
        throttle.failed("10.0.0.1")
    clock.now += 3600
    assert throttle.wait("10.0.0.1") == 0.0 and len(throttle) == 0
    assert [throttle.failed("10.0.0.1") for _ in range(5)][-1] == (5, 30.0)  # the growth starts over


def test_the_table_is_bounded():
    throttle = login.LoginThrottle(max_clients=100, clock=Clock())
    for n in range(1000):
        throttle.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(throttle) == 100
    assert throttle.failed("10.0.3.231") == (2, 0.0)  # the most recent addresses are the ones kept


@pytest.mark.parametrize(("line", "shown"), [
    (f"404 GET /customer/{CUSTOMER} (127.0.0.1) 0.56ms", "404 GET /REDACTED (127.0.0.1) 0.56ms"),
    (f"302 GET /?customer={CUSTOMER} (127.0.0.1) 0.60ms", "302 GET /?REDACTED (127.0.0.1) 0.60ms"),
    (f"200 GET /login?next=%2F%3Fc%3D{CUSTOMER} (::1) 1ms", "200 GET /login?REDACTED (::1) 1ms"),
    (f"404 GET /static/js/{CUSTOMER}.js (127.0.0.1) 1ms", "404 GET /static/... (127.0.0.1) 1ms"),
    (f"405 FOO http://x:8050/c/{CUSTOMER}?a=1 (127.0.0.1)",
     "405 REDACTED http://REDACTED/REDACTED?REDACTED (127.0.0.1)"),
    # the probe's: the ID as the host of an absolute URL, and as the request line's method
    (f"404 GET http://{CUSTOMER}.evil/x (127.0.0.1) 1ms", "404 GET http://REDACTED/REDACTED (127.0.0.1) 1ms"),
    (f"405 {CUSTOMER} / (127.0.0.1) 1ms", "405 REDACTED / (127.0.0.1) 1ms"),
    (f"404 GET http://127.0.0.1:8050/c/{CUSTOMER} (127.0.0.1)",
     "404 GET http://127.0.0.1:8050/REDACTED (127.0.0.1)"),
    (f"HTTPServerRequest(method='GET', uri='//{CUSTOMER}', version='HTTP/1.1')",
     "HTTPServerRequest(method='GET', uri='/REDACTED', version='HTTP/1.1')"),
    ("200 GET / (127.0.0.1) 3.10ms", "200 GET / (127.0.0.1) 3.10ms"),
])
def test_request_lines_keep_only_a_known_first_segment(line, shown):
    assert logs.redact(line) == shown and logs.redact(shown) == shown


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def stub(tmp_path_factory):
    """The stub dashboard behind PASSWORD; its stderr (the server's log) in a file."""
    folder = tmp_path_factory.mktemp("stub_dashboard")
    script, log_path, port = folder / "stub.py", folder / "server.log", free_port()
    script.write_text(STUB, encoding="utf-8")
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen([sys.executable, str(script), str(port)], stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(base + "/liveness", timeout=2)
                    break
                except (urllib.error.URLError, ConnectionError):
                    if process.poll() is not None or time.monotonic() > deadline:
                        said = log_path.read_text(encoding="utf-8")
                        raise RuntimeError(f"the stub dashboard did not start: {said}") from None
                    time.sleep(0.3)
            yield {"base": base, "port": port, "log": log_path}
        finally:
            process.terminate()
            process.wait(timeout=20)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def answer(url: str, form: dict | None = None) -> tuple[int, dict, str]:
    """(status, headers, body) of a GET, or a POST of ``form``, redirects not followed; the cookies set
    are joined in one "Set-Cookie" entry."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with urllib.request.build_opener(NoRedirect).open(url, data=data, timeout=10) as done:
            status, headers, body = done.status, done.headers, done.read().decode()
    except urllib.error.HTTPError as refused:
        status, headers, body = refused.code, refused.headers, refused.read().decode()
    return status, {**dict(headers), "Set-Cookie": "; ".join(headers.get_all("Set-Cookie") or [])}, body


def log_text(stub, settle: float = 0.5) -> str:
    time.sleep(settle)  # the server writes its lines as it answers; let the last ones land
    return stub["log"].read_text(encoding="utf-8")


def test_failed_sign_ins_are_logged_and_the_sixth_is_refused_with_429(stub):
    status, headers, _ = answer(stub["base"] + "/login", {"username": "marketing", "password": PASSWORD})
    assert status == 302 and "user=" in headers["Set-Cookie"]  # the right password signs in
    guesses = [f"guess-{CUSTOMER}-{n}" for n in range(5)]
    for guess in guesses:
        status, headers, _ = answer(stub["base"] + "/login",
                                    {"username": f"user{CUSTOMER}", "password": guess})
        assert status == 302 and "error=" in headers["Location"]
    started = time.monotonic()
    for password in ("guess-six", PASSWORD):  # locked: even the right password is not checked
        status, headers, body = answer(stub["base"] + "/login",
                                       {"username": "marketing", "password": password})
        assert status == 429 and 1 <= int(headers["Retry-After"]) <= 30
        assert "Too many failed sign-ins from your address: try again in" in body
        assert "user=" not in headers["Set-Cookie"]
    assert time.monotonic() - started < 5  # refused at once, not slowed down
    text = log_text(stub)
    failures = [line for line in text.splitlines() if "sign-in failed" in line]
    assert [line.split(" WARNING ", 1)[1] for line in failures] == [
        f"lgs_analytics.dashboard.login: dashboard sign-in failed from 127.0.0.1 ({n} within 60 s)"
        for n in range(1, 5)] + [
        "lgs_analytics.dashboard.login: dashboard sign-in failed from 127.0.0.1 (5 within 60 s); "
        "that address is refused for 30 s"]
    assert "429 POST /login" in text
    assert CUSTOMER not in text and "guess" not in text and PASSWORD not in text  # nothing typed


def test_no_log_line_names_a_path_or_query_a_client_chose(stub):
    for path in (f"/customer/{CUSTOMER}", f"/?customer={CUSTOMER}", f"/customer/{CUSTOMER}?id={CUSTOMER}",
                 f"/login?next=%2Fcustomer%2F{CUSTOMER}", f"//{CUSTOMER}", f"/liveness/{CUSTOMER}",
                 f"/static/{CUSTOMER}/x.js?c={CUSTOMER}"):
        status, _, _ = answer(stub["base"] + path)
        assert status in (200, 302, 404)
    with socket.create_connection(("127.0.0.1", stub["port"]), timeout=10) as raw:  # absolute-form request
        raw.sendall(f"GET http://127.0.0.1:{stub['port']}/customer/{CUSTOMER}?c={CUSTOMER} HTTP/1.1\r\n"
                    f"Host: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        while raw.recv(65536):
            pass
    text = log_text(stub)
    assert "404 GET /REDACTED (127.0.0.1)" in text and "GET /?REDACTED (127.0.0.1)" in text  # lines printed
    assert "GET http://127.0.0.1:" in text and "/REDACTED?REDACTED (127.0.0.1)" in text
    assert CUSTOMER not in text
    assert "Traceback" not in text


def test_the_stub_serves_nothing_without_the_password(stub):
    status, headers, body = answer(stub["base"] + "/")
    assert status == 302 and "/login" in headers["Location"] and "stub board" not in body
    assert "user=" not in headers["Set-Cookie"]
