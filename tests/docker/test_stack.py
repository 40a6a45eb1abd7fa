"""The compose stack on a real Docker engine, used as a user uses it (`make test-docker`).

In a copy of this checkout with its own .env (fresh secrets, free ports on 127.0.0.1, a one-minute
refresh) and its own compose project name, so a user's running `lgs` stack is never touched:
build the image; bring `db` up from an empty volume and find every object of sql/ in it; run the
one-shot `report` on the vendored real sample; start jupyter, dashboard and scheduler; sign in to
the dashboard in Chromium; use JupyterLab's token and execute the notebook inside its container;
drop an export into data/inbox/ and wait for the scheduler's new build; check every published port
is on 127.0.0.1; then `docker compose down -v` and find nothing of the project left. The tests run
in file order, each on what the previous left. Each step's time is printed at the end.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lgs_analytics.store.db import owned_objects

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests/data/online_retail_2010_2011_sample.csv.gz"
INBOX_EXPORT = ROOT / "tests/data/online_retail_II_head.xlsx"
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu"]
IMAGE = "lgs-analytics:0.1.0"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Stack:
    """One compose project in a scratch copy of the checkout."""

    directory: Path
    name: str
    env: dict[str, str]
    times: dict[str, float] = field(default_factory=dict)
    state: dict[str, float] = field(default_factory=dict)  # what one test leaves the next

    def compose(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        command = ["docker", "compose", "--project-directory", str(self.directory), "-p", self.name, *args]
        # The caller's own settings never reach this project: an exported variable beats .env in Compose.
        env = {k: v for k, v in os.environ.items() if k not in self.env and not k.startswith("COMPOSE_")}
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.directory,
                              env=env)
        if check and done.returncode != 0:
            pytest.fail(f"`{' '.join(command[4:])}` failed ({done.returncode}):\n{done.stdout[-3000:]}"
                        f"\n{done.stderr[-3000:]}")
        return done

    def timed(self, step: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        started = time.monotonic()
        done = self.compose(*args, timeout=timeout)
        self.times[step] = time.monotonic() - started
        return done

    def psql(self, sql: str) -> str:
        return self.compose("exec", "-T", "db", "psql", "-U", self.env["POSTGRES_USER"], "-d",
                            self.env["POSTGRES_DB"], "-v", "ON_ERROR_STOP=1", "-Atc", sql).stdout.strip()

    def labelled(self, kind: str) -> list[str]:
        """What the engine still has of this project: containers, volumes or networks."""
        label = f"label=com.docker.compose.project={self.name}"
        command = ["docker", kind, "ls", "--quiet", "--filter", label]
        if kind == "container":
            command.insert(3, "--all")
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()


def scratch_copy(target: Path) -> None:
    """The checkout's files as git sees them (tracked, and new but not ignored): what a clone holds,
    with this working tree's changes."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not name.startswith(("tests/", "bench/", "docs/")):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def settings(app_uid: int) -> dict[str, str]:
    """.env.example with fresh secrets, free ports and a scheduler that refreshes every minute."""
    example = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            example[key.strip()] = value.strip()
    example.update(
        POSTGRES_PASSWORD=secrets.token_urlsafe(18), JUPYTER_TOKEN=secrets.token_urlsafe(18),
        LGS_DASHBOARD_PASSWORD=secrets.token_urlsafe(18), LGS_PSEUDONYM_KEY=secrets.token_urlsafe(18),
        DB_PORT=str(free_port()), JUPYTER_PORT=str(free_port()), DASHBOARD_PORT=str(free_port()),
        APP_UID=str(app_uid), LGS_REFRESH_EVERY="1m", LGS_REFRESH_MIN_AGE="0")
    return example


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode:
        pytest.fail("no Docker engine answers `docker info`: start one (tests/docker/engine.sh as root)")
    directory = tmp_path_factory.mktemp("stack")
    scratch_copy(directory)
    # The container user writes data/ and reports/: the invoking user's UID, as a user sets APP_UID;
    # as root, 1234 (not the image's default, so the build argument is proven to arrive), and the
    # folders given to it.
    uid = os.getuid() or 1234
    env = settings(uid)
    (directory / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()), encoding="utf-8")
    for sub in ("data/raw", "data/inbox", "reports"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy2(SAMPLE, directory / "data/raw" / SAMPLE.name)
    for path in [directory / "data", *(directory / "data").rglob("*"), directory / "reports"]:
        os.chown(path, uid, uid)
    engine = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True,
                            text=True).stdout.strip()
    compose = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True,
                             text=True).stdout.strip()
    running = Stack(directory, f"lgstest{uuid.uuid4().hex[:8]}", env)
    try:
        yield running
    finally:
        running.compose("down", "--volumes", "--remove-orphans", "--timeout", "10", check=False)
        total = sum(running.times.values())
        print(f"\nDocker Engine {engine}, Compose {compose}: "
              + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in running.times.items())
              + f"; {total:.0f} s in all")


def test_the_image_builds_for_the_users_uid(stack):
    # .ci/run builds on its first engine and runs the same image on its second (one image store).
    if os.environ.get("LGS_TEST_DOCKER_REUSE_IMAGE") != "1":
        stack.timed("build", "build")
    inspected = json.loads(subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True,
                                          check=True, text=True).stdout)[0]
    assert inspected["Config"]["User"] == stack.env["APP_UID"]  # numeric, never root
    print(f"\n{IMAGE}: {inspected['Size'] / 1e9:.2f} GB, {len(inspected['RootFS']['Layers'])} layers")


def test_db_comes_up_healthy_from_an_empty_volume_with_every_sql_script_applied(stack):
    stack.timed("db up (healthy)", "up", "--detach", "--wait", "db", timeout=180)
    expected = [(kind, name) for kind, name in owned_objects() if name != "lgs_schema"]  # lgs' own record
    checks = ", ".join(f"EXISTS (SELECT FROM pg_proc WHERE proname = '{name}')" if kind == "FUNCTION"
                       else f"to_regclass('{name}') IS NOT NULL" for kind, name in expected)
    found = stack.psql(f"SELECT {checks}").split("|")
    missing = [name for (kind, name), present in zip(expected, found, strict=True) if present != "t"]
    assert not missing, f"objects of sql/ missing after the init scripts: {missing}"
    assert stack.psql("SHOW server_encoding") == "UTF8"


def test_the_report_service_reports_on_the_real_sample(stack):
    # The dashboard started first, as `docker compose up` starts it beside `report`: it waits for the
    # first build instead of exiting (a crash loop of one-line errors until report had published).
    stack.compose("up", "--detach", "--no-deps", "dashboard")
    waited = time.monotonic()
    while "waiting for the first build" not in stack.compose("logs", "dashboard").stdout:
        assert time.monotonic() - waited < 120, stack.compose("logs", "dashboard").stdout
        time.sleep(1)
    done = stack.timed("report (load, build, notebook)", "run", "--rm", "report", timeout=600)
    assert "66,356 rows read = 66,356 loaded" in done.stdout + done.stderr
    html = stack.directory / "reports/retail_report.html"
    text = html.read_text(encoding="utf-8")
    assert "SYNTHETIC DATA" not in text and SAMPLE.name in text
    campaigns = sorted((stack.directory / "reports/retail_report_campaigns").glob("*.csv"))
    assert len(campaigns) >= 10 and all(path.stat().st_size > 0 for path in campaigns)
    uid = int(stack.env["APP_UID"])
    assert {path.stat().st_uid for path in [html, *campaigns]} == {uid}  # the host user's, not root's


def test_the_services_start_and_turn_healthy(stack):
    stack.timed("jupyter, dashboard up (healthy)", "up", "--detach", "--wait", "jupyter", "dashboard",
                timeout=300)
    assert "lgs: error" not in stack.compose("logs", "dashboard").stdout
    restarts = subprocess.run(["docker", "inspect", "--format", "{{.RestartCount}}",
                               f"{stack.name}-dashboard-1"], capture_output=True, text=True).stdout.strip()
    assert restarts == "0"
    # An export waits in data/inbox/ when the scheduler starts: its first run loads it and publishes a
    # build (checked further down, so the other checks use the seconds that takes). That a run comes
    # every LGS_REFRESH_EVERY after the last is tested in tests/jobs/test_refresh.py.
    stack.state["builds before the drop"] = int(stack.psql("SELECT max(build_id) FROM builds"))
    target = stack.directory / "data/inbox" / INBOX_EXPORT.name
    shutil.copy2(INBOX_EXPORT, target)
    os.chown(target, int(stack.env["APP_UID"]), int(stack.env["APP_UID"]))
    stack.state["inbox dropped at"] = time.monotonic()
    stack.compose("up", "--detach", "scheduler")  # no healthcheck: a loop that serves nothing


def test_the_dashboard_asks_for_its_password_then_serves_the_segments(stack):
    base = f"http://127.0.0.1:{stack.env['DASHBOARD_PORT']}"

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.build_opener(Stay).open(base + "/", timeout=10)
    assert answer.value.code == 302 and "/login" in answer.value.headers["Location"]
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is needed to sign in (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            tab.goto(base + "/login")
            tab.fill("input[name=password]", stack.env["LGS_DASHBOARD_PASSWORD"])
            tab.click("button[type=submit], input[type=submit]")
            try:
                tab.wait_for_selector("text=NET SALES, WHOLE PERIOD", timeout=90_000)
                tab.locator(".bk-tab", has_text="Segments").first.click()
                for segment in ("Champions", "At Risk", "Hibernating"):  # cells of the Segments table
                    cell = tab.locator(".tabulator-cell:visible", has_text=re.compile(f"^{segment}$"))
                    cell.first.wait_for(timeout=30_000)
            except Exception:
                shot = stack.directory / "dashboard-failed.png"
                tab.screenshot(path=str(shot))
                logs = stack.compose("logs", "--tail", "30", "dashboard", check=False).stdout
                pytest.fail(f"the dashboard did not show its segments (screenshot {shot}); it said:\n{logs}")
        finally:
            browser.close()
    stack.times["dashboard sign-in and segments"] = time.monotonic() - started


def test_jupyter_wants_its_token_and_executes_the_notebook_in_its_container(stack):
    api = f"http://127.0.0.1:{stack.env['JUPYTER_PORT']}/api/contents/notebooks"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(api, timeout=10)
    assert refused.value.code == 403
    with urllib.request.urlopen(f"{api}?token={stack.env['JUPYTER_TOKEN']}", timeout=10) as answer:
        listed = {item["name"] for item in json.load(answer)["content"]}
    assert "retail_analytics.ipynb" in listed
    done = stack.timed("notebook executed in jupyter", "exec", "-T", "jupyter", "jupyter", "nbconvert",
                       "--to", "notebook", "--execute", "--output-dir", "/tmp", "--output", "executed",
                       "notebooks/retail_analytics.ipynb", timeout=600)
    assert "Writing" in done.stderr and "executed.ipynb" in done.stderr


def test_the_scheduler_publishes_a_new_build_from_the_inbox(stack):
    before, dropped = stack.state["builds before the drop"], stack.state["inbox dropped at"]
    loaded = f"SELECT count(*) FROM load_batches WHERE source_file LIKE '%{INBOX_EXPORT.name}'"
    while time.monotonic() - dropped < 180:
        if stack.psql(loaded) == "1" and int(stack.psql("SELECT max(build_id) FROM builds")) > before:
            break
        time.sleep(2)
    else:
        logs = stack.compose("logs", "--tail", "20", "scheduler", check=False).stdout
        pytest.fail(f"no build from data/inbox/ within 180 s; the scheduler said:\n{logs}")
    stack.times["scheduler: inbox to new build"] = time.monotonic() - dropped
    assert list((stack.directory / "data/processed").rglob(INBOX_EXPORT.name))  # moved out of the inbox
    assert not (stack.directory / "data/inbox" / INBOX_EXPORT.name).exists()


def test_every_published_port_is_on_loopback_only(stack):
    ids = stack.labelled("container")
    inspected = json.loads(subprocess.run(["docker", "inspect", *ids], capture_output=True, check=True,
                                          text=True).stdout)
    published = {(c["Name"], port, binding["HostIp"]) for c in inspected
                 for port, bindings in (c["HostConfig"]["PortBindings"] or {}).items()
                 for binding in bindings}
    assert {name.split("-")[-2] for name, _, _ in published} == {"db", "jupyter", "dashboard"}
    assert {ip for _, _, ip in published} == {"127.0.0.1"}, published


def test_down_with_volumes_leaves_nothing_behind(stack):
    stack.timed("down -v", "down", "--volumes", "--timeout", "10")
    assert stack.labelled("container") == []
    assert stack.labelled("volume") == []
    assert stack.labelled("network") == []
