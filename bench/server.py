"""A production-like RiskBench for bench scripts: PostgreSQL + gunicorn on 127.0.0.1.

Shared by the scripts that measure pages under load (`bench_load.py`) and that try to lose
updates (`bench_soak.py`): a throw-away PostgreSQL database, the app served by gunicorn with
DEBUG off (as in production), and HTTP clients that log in like a browser (session cookie) or
like a CI job (API token). Only ever talks to 127.0.0.1.

    from server import pg_available, setup_postgres, Gunicorn, PageClient
    setup_postgres("riskbench_bench_load")       # drop + create + migrate, Django set up
    ...build data with synthetic.generate_product...
    with Gunicorn(workers=2) as app:
        client = PageClient(app.url, "editor", "password")
        client.get("/p/slug/")
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET_KEY = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH"


def pg_available() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except Exception:
        return False
    return True


def database_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def database_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()


def setup_postgres(name: str, *, fresh: bool = True) -> str:
    """(Re)create the database `name`, point Django at it, set Django up and migrate.

    With `fresh=False` an existing database is kept (the caller reuses data it built before).
    """
    import psycopg

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if fresh or not database_exists(name):
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "riskbench.settings")
    os.environ.setdefault("DJANGO_MEDIA_ROOT", str(ROOT / "bench" / "out" / "media"))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_user(username: str, password: str, *, group: str, products=(), superuser=False):
    """A login for the bench, member of `products`."""
    from django.contrib.auth.models import Group, User

    from hazards.models import Membership

    user, _ = User.objects.get_or_create(username=username)
    user.set_password(password)
    user.is_superuser = superuser
    user.is_staff = superuser
    user.first_name, user.last_name = username.capitalize(), "Bench"
    user.save()
    user.groups.add(Group.objects.get(name=group))
    for product in products:
        Membership.objects.get_or_create(product=product, user=user)
    return user


def api_token(user) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


class Gunicorn:
    """gunicorn serving RiskBench (DEBUG off, static files collected) on 127.0.0.1; always
    stopped on exit. The app sits "behind a TLS proxy": clients send X-Forwarded-Proto."""

    def __init__(self, *, workers: int = 2, threads: int = 1, port: int | None = None, env=None):
        self.workers, self.threads = workers, threads
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env or {}
        self.process = None
        self._static = None
        self._log = None

    def __enter__(self):
        self._static = tempfile.mkdtemp(prefix="riskbench-bench-static-")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "riskbench.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": SECRET_KEY,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_STATIC_ROOT": self._static,
            "DJANGO_LOG_LEVEL": "ERROR",
            **self.env,
        }
        python = sys.executable
        subprocess.run(
            [python, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        gunicorn = str(Path(python).with_name("gunicorn"))
        self._log = tempfile.NamedTemporaryFile(prefix="riskbench-gunicorn-", suffix=".log")
        self.process = subprocess.Popen(
            [
                gunicorn, "riskbench.wsgi", "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(self.workers), "--threads", str(self.threads),
                "--timeout", "120", "--log-level", "warning",
            ],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_tail()}")
            try:
                requests.get(f"{self.url}/accounts/login/", timeout=2)
                return self
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def log_tail(self, lines: int = 30) -> str:
        if self._log is None:
            return ""
        return "\n".join(Path(self._log.name).read_text(errors="replace").splitlines()[-lines:])

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self._log:
            self._log.close()
        return False


HEADERS = {"X-Forwarded-Proto": "https"}  # as behind the TLS-terminating proxy


class PageClient:
    """A browser-like client: logs in through the login form and keeps the session cookie.

    Cookies are `Secure` in production; requests would not send them over plain HTTP to the
    loopback app, so the session and CSRF cookies are passed on by hand.
    """

    def __init__(self, base_url: str, username: str, password: str):
        self.base = base_url
        self.http = requests.Session()
        self.cookies: dict[str, str] = {}
        page = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        response = self.post(
            "/accounts/login/",
            {"username": username, "password": password, "csrfmiddlewaretoken": token[1]},
        )
        if "sessionid" not in self.cookies:
            raise RuntimeError(f"login of {username} failed ({response.status_code})")

    def _remember(self, response):
        for cookie in response.cookies:
            self.cookies[cookie.name] = cookie.value
        for r in response.history:
            for cookie in r.cookies:
                self.cookies[cookie.name] = cookie.value
        return response

    def _headers(self, extra=None):
        headers = dict(HEADERS)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers["Referer"] = self.base.replace("http://", "https://", 1) + "/"
        return {**headers, **(extra or {})}

    def get(self, path: str, **kwargs):
        return self._remember(
            self.http.get(self.base + path, headers=self._headers(), timeout=120, **kwargs)
        )

    def post(self, path: str, data: dict, **kwargs):
        headers = self._headers({"X-CSRFToken": self.cookies.get("csrftoken", "")})
        return self._remember(
            self.http.post(
                self.base + path, data=data, headers=headers, timeout=120,
                allow_redirects=False, **kwargs,
            )
        )  # fmt: skip


class ApiClient:
    """A CI-job-like client: token authentication, JSON."""

    def __init__(self, base_url: str, token: str):
        self.base = base_url
        self.http = requests.Session()
        self.http.headers.update({**HEADERS, "Authorization": f"Token {token}"})

    def get(self, path: str):
        return self.http.get(self.base + path, timeout=120)

    def patch(self, path: str, payload: dict, *, reason: str):
        return self.http.patch(
            self.base + path, json=payload, headers={"X-Change-Reason": reason}, timeout=120
        )
