"""Browser tests of kitreview's workspace (Playwright + Debian's chromium).

Every test runs twice: on SQLite (a temp dir) and on PostgreSQL (a fresh
database on TEST_POSTGRES_URL, dropped afterwards). A TEST_POSTGRES_URL that
does not answer fails the PostgreSQL runs; without it they are skipped, unless
CI is set, when they fail.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

# A loaded CI machine answers slower than a desk: wait up to 10 s for a page.
expect.set_options(timeout=10_000)

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PASSWORD = "kitreview-demo-2026"
KENYA = "delegate.kenya@itu.example"
FRANCE = "delegate.france@itu.example"
SECRETARIAT = "secretariat@itu.example"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Api:
    """The GraphQL API with a Bearer token, as a script uses it."""

    def __init__(self, base):
        self.base = base
        self.tokens = {}

    def raw(self, query, variables=None, token=None, headers=None):
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        h = {"content-type": "application/json", **(headers or {})}
        if token:
            h["authorization"] = f"Bearer {token}"
        req = urllib.request.Request(f"{self.base}/graphql", data=body, headers=h, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                return res.status, json.loads(res.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def token(self, email):
        if email not in self.tokens:
            status, body = self.raw(
                "mutation($i: LoginInput!) { login(input: $i) { token } }",
                {"i": {"email": email, "password": PASSWORD}})
            assert status == 200 and not body.get("errors"), body
            self.tokens[email] = body["data"]["login"]["token"]
        return self.tokens[email]

    def gql(self, email, query, variables=None):
        status, body = self.raw(query, variables, token=self.token(email))
        assert status == 200 and not body.get("errors"), (status, body)
        return body["data"]


class Server:
    def __init__(self, backend, base, proc, log):
        self.backend, self.base, self.proc, self.log = backend, base, proc, log
        self.api = Api(base)
        self.states = {}  # e-mail -> Playwright storage state (signed in)

    def url(self, path):
        return self.base + path


def postgres_url():
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("TEST_POSTGRES_URL is not set and CI is: the PostgreSQL runs must run")
        pytest.skip("TEST_POSTGRES_URL is not set: PostgreSQL runs skipped")
    return url


def psql(url, sql):
    if not shutil.which("psql"):
        pytest.fail("psql is needed to create the PostgreSQL test database")
    r = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        pytest.fail(f"PostgreSQL at TEST_POSTGRES_URL does not answer: {r.stderr.strip()}")


def with_db(url, name):
    p = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment))


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def server(request):
    backend = request.param
    binary = Path(os.environ.get("KITREVIEW_BIN", ROOT / "target/debug/kitreview")).resolve()
    if not binary.is_file():
        pytest.fail(f"no kitreview binary at {binary} (set KITREVIEW_BIN)")
    tmp = Path(tempfile.mkdtemp(prefix=f"kitreview-browser-{backend}-"))
    pg_admin = dbname = None
    if backend == "sqlite":
        db_url = f"sqlite:{tmp}/kitreview.db"
    else:
        pg_admin = postgres_url()
        dbname = f"kitreview_browser_{secrets.token_hex(6)}"
        psql(pg_admin, f"CREATE DATABASE {dbname}")
        db_url = with_db(pg_admin, dbname)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp / "server.log", "wb")
    env = {**os.environ, "KITREVIEW_LOG": os.environ.get("KITREVIEW_LOG", "warn")}
    if backend == "postgres":
        env["KITREVIEW_JWT_SECRET"] = secrets.token_hex(32)
    proc = subprocess.Popen(
        [str(binary), "serve", "--demo", "--listen", f"127.0.0.1:{port}", "--database-url", db_url],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"kitreview exited: {(tmp / 'server.log').read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"kitreview not ready after 120 s: {(tmp / 'server.log').read_text(errors='replace')}")
            time.sleep(0.2)
        yield Server(backend, base, proc, tmp / "server.log")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        if dbname:
            psql(pg_admin, f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Contexts:
    """New browser contexts, signed in or not; all closed after the test."""

    def __init__(self, browser, server):
        self.browser, self.server, self.open, self.errors = browser, server, [], []

    def new(self, user=None, locale="en-US", **kw):
        kw.setdefault("viewport", {"width": 1280, "height": 800})
        state = self.signed_in_state(user) if user else None
        ctx = self.browser.new_context(base_url=self.server.base, locale=locale, storage_state=state, **kw)
        ctx.set_default_timeout(15000)
        self.open.append(ctx)
        return ctx

    def page(self, user=None, **kw):
        page = self.new(user, **kw).new_page()
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        return page

    def signed_in_state(self, user):
        if user not in self.server.states:
            ctx = self.browser.new_context(base_url=self.server.base)
            r = ctx.request.post("/session", data={"email": user, "password": PASSWORD})
            assert r.status == 200, r.text()
            self.server.states[user] = ctx.storage_state()
            ctx.close()
        return self.server.states[user]

    def close(self):
        for c in self.open:
            c.close()


@pytest.fixture
def contexts(browser, server):
    c = Contexts(browser, server)
    yield c
    c.close()
    assert not c.errors, f"uncaught errors in the page: {c.errors}"


def demo_ids(server):
    """The demo's modules and cycles, by title, through the API."""
    data = server.api.gql(SECRETARIAT, """{ questions(first: 10) { nodes { kits { title modules {
        id title revisionCount currentRevision { id number }
        reviewCycles { id title status visibility revision { number } } } } } } }""")
    mods = [m for q in data["questions"]["nodes"] for k in q["kits"] for m in k["modules"]]
    gov = next(m for m in mods if any(c["status"] == "OPEN" and c["visibility"] == "OPEN" for c in m["reviewCycles"]))
    env = next(m for m in mods if any(c["status"] == "CONSOLIDATED" for c in m["reviewCycles"]))
    return gov, env


@pytest.fixture
def demo(server):
    return demo_ids(server)


AXE = HERE / "node_modules/axe-core/axe.min.js"
