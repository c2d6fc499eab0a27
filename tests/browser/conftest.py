"""Browser tests: Playwright drives Debian's Chromium (`/usr/bin/chromium`; Playwright's own
browser downloads are not used) against a real RiskBench server.

The server is a separate process (`manage.py runserver`, development settings) on its own
SQLite file in a temporary folder, loaded once per session with the demo (`loaddemo`) and a
synthetic product of 1,000 hazards (bench/synthetic.py), plus a database task worker for the
background dossier. Being another process, it never shares data with the rest of the suite's
test database. One login per user is made once and reused by every test (storage state).

Every test here is marked `browser` (see pyproject) and skipped, with the reason, when Chromium
is not installed. Set RISKBENCH_SCREENSHOTS=1 to write the README's screenshots
(`make screenshots`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("RISKBENCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PORTS = range(8111, 8120)  # this project's range for the browser suite's server
USERS = {
    "demo": "Bolus-occlusion-42",  # quality engineer, member of the demo products
    "auditor": "Audit-trail-1971",  # auditor, reads only
    "riley": "Residual-review-2019",  # head of quality: approves what others wrote
}
SYNTHETIC_SLUG = "synthetic-1000"
WIDTHS = [(1366, 768), (1920, 1080)]
SKIP_REASON = f"Chromium not found at {CHROMIUM}: browser tests skipped (apt-get install chromium)"


def chromium_available() -> bool:
    return Path(CHROMIUM).exists()


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason=SKIP_REASON)
    mine = [item for item in items if here in Path(str(item.fspath)).parents]
    if mine and not chromium_available() and os.environ.get("RISKBENCH_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(SKIP_REASON.replace("skipped", "required (CI)"))
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            if not chromium_available():
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def _free_port() -> int:
    for port in PORTS:
        with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"No free port in {PORTS.start}-{PORTS.stop - 1} for the test server.")


def _manage(env, *args, timeout=600):
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=timeout,
        stdout=subprocess.DEVNULL,
    )


SEED = f"""
import sys
sys.path.insert(0, "bench")
import django
django.setup()
from django.contrib.auth import get_user_model
from hazards.models import Membership
from synthetic import generate_product
product = generate_product(1000, slug="{SYNTHETIC_SLUG}", chain=False)
for name in ("demo", "auditor"):
    membership = Membership(product=product, user=get_user_model().objects.get(username=name))
    membership._change_reason = "Browser tests: access to the synthetic product"
    membership.save()
"""


@pytest.fixture(scope="session")
def server_env(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser-server")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "riskbench.settings",
        "DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
        "DJANGO_MEDIA_ROOT": str(root / "media"),
        "DJANGO_STATIC_ROOT": str(root / "static"),
        "DJANGO_DEBUG": "1",
        "RISKBENCH_DEMO_LOGIN": "1",
        "RISKBENCH_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "RISKBENCH_LOGIN_FAILURE_LIMIT": "50",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SECRET_KEY", None)
    prepared = os.environ.get("RISKBENCH_BROWSER_DB")  # development: a copy of a seeded DB
    if prepared and Path(prepared).exists():
        shutil.copy(prepared, root / "db.sqlite3")
        _manage(env, "migrate", "--noinput")
        return env, root
    _manage(env, "migrate", "--noinput")
    _manage(env, "loaddemo")
    subprocess.run(
        [sys.executable, "-c", SEED], cwd=ROOT, env=env, check=True, timeout=600
    )  # fmt: skip
    if prepared:
        shutil.copy(root / "db.sqlite3", prepared)
    return env, root


@pytest.fixture(scope="session")
def live_url(server_env):
    """Base URL of the running server (started once, stopped after the session)."""
    env, root = server_env
    port = _free_port()
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/accounts/login/", timeout=2):  # noqa: S310
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError((root / "server.log").read_text()[-3000:]) from None
            time.sleep(0.3)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def task_worker(server_env):
    """A database task worker (`manage.py db_worker`), for the background dossier."""
    env, root = server_env
    log = (root / "worker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.5", "--no-reload"]
        + ["--no-startup-delay"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def login_states(browser, live_url, tmp_path_factory):
    """username → storage-state file of a logged-in session (one login per user)."""
    folder = tmp_path_factory.mktemp("states")
    states = {}
    for username, password in USERS.items():
        context = browser.new_context(base_url=live_url)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_url}/")
        path = folder / f"{username}.json"
        context.storage_state(path=str(path))
        context.close()
        states[username] = str(path)
    return states


class PageProblems:
    """Console errors of a page: CSP violations above all, and any other error."""

    def __init__(self, page):
        self.messages: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"page error: {error}"))

    def _console(self, message):
        if message.type == "error":
            self.messages.append(message.text)

    @property
    def csp_violations(self) -> list[str]:
        return [m for m in self.messages if "Content Security Policy" in m]

    def clear(self):
        self.messages.clear()


@pytest.fixture
def open_page(browser, live_url, login_states):
    """`open_page(user="demo", width=1366, height=768)` → a fresh logged-in page whose console
    problems are on `page.problems`; every context is closed after the test."""
    contexts = []

    def make(user="demo", width=1366, height=768, javascript=True):
        context = browser.new_context(
            base_url=live_url,
            viewport={"width": width, "height": height},
            storage_state=login_states[user] if user else None,
            java_script_enabled=javascript,
            accept_downloads=True,
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.problems = PageProblems(page)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page):
    """A logged-in quality engineer's page at 1366×768."""
    return open_page()


SCREENSHOTS = ROOT / "docs" / "screenshots"


def screenshots_wanted() -> bool:
    return os.environ.get("RISKBENCH_SCREENSHOTS", "") == "1"


def shrink_png(path: Path) -> None:
    """A 256-colour PNG: the pages are flat colours and text, so it stays sharp and small."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def save_screenshot(page, name: str, **kwargs) -> Path | None:
    """Write docs/screenshots/<name>.png when RISKBENCH_SCREENSHOTS=1 (`make screenshots`)."""
    if not screenshots_wanted():
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), **kwargs)
    shrink_png(path)
    return path


def pdf_tool() -> str | None:
    return shutil.which("pdftoppm")
