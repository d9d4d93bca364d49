#!/usr/bin/env python3
"""Fault harness for kitreview (issue "Faults", items 2 and 3): a release binary
on PostgreSQL behind a TCP proxy that this script controls.

    python3 benches/faults/run.py --binary target/release/kitreview [--label NAME]
        [--pg postgres://postgres@127.0.0.1:5432/test] [--only outage,slow]
        [--out FILE]

- outage: the proxy is cut (every connection reset, new ones refused: PostgreSQL
  "stopped"); what `submitComment`, a signed-in read and `/readyz` answer, and how
  long they take; then the proxy comes back on the same port and the time until a
  write works again, without restarting the server.
- slow: the proxy delays every answer of PostgreSQL (`--delay-ms`, 10 and 20) while 32
  clients each submit 6 comments with `--request-timeout 1s`; then every comment
  stored is read back. Counted: answers that said the comment failed although it
  was stored (the client would retry and store it twice), and duplicates after
  every failed submission is retried once (with its idempotency key, when the
  binary has them).

Python 3.11 standard library only; every byte goes to 127.0.0.1.
"""

import argparse
import json
import os
import random
import socket
import statistics
import string
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "attacks"))
import run as attacks  # noqa: E402  (request, gql, login, open_cycle_id, free_port)

SUBMIT = ("mutation($i: SubmitCommentInput!) { submitComment(input: $i) "
          "{ comment { id number body } } }")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Proxy:
    """127.0.0.1:port → upstream, with cut/restore and a delay on answers."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.port = attacks.free_port()
        self.delay = 0.0
        self.lock = threading.Lock()
        self.socks = []
        self.listener = None
        self.restore()

    def restore(self):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(256)
        self.listener = ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()

    def _accept(self, ls):
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(self.upstream)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.socks += [c, u]
            threading.Thread(target=self._pump, args=(c, u, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c, True), daemon=True).start()

    def _pump(self, src, dst, answers):
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                if answers and self.delay:
                    time.sleep(self.delay)
                dst.sendall(b)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.listener.close()
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            # shutdown wakes the pump blocked in recv (close alone would not).
            for f in (lambda: s.shutdown(socket.SHUT_RDWR), s.close):
                try:
                    f()
                except OSError:
                    pass


def psql(admin, sql):
    subprocess.run(["psql", admin, "-qAtc", sql], check=True, stdout=subprocess.DEVNULL)


class Database:
    def __init__(self, admin):
        self.admin = admin
        self.name = "kitreview_faults_" + "".join(random.choice(string.ascii_lowercase) for _ in range(8))
        psql(admin, f"CREATE DATABASE {self.name}")

    def url_via(self, proxy):
        u = urllib.parse.urlsplit(self.admin)
        user = u.username or "postgres"
        return f"postgres://{user}@127.0.0.1:{proxy.port}/{self.name}"

    def drop(self):
        psql(self.admin, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


class Server:
    def __init__(self, binary, url, extra):
        self.port = attacks.free_port()
        env = dict(os.environ)
        env["KITREVIEW_JWT_SECRET"] = attacks.JWT_SECRET
        env.setdefault("KITREVIEW_LOG", "warn")
        self.logf = open(f"/tmp/kitreview-faults-{self.port}.log", "wb")
        self.proc = subprocess.Popen(
            [binary, "serve", "--demo", "--listen", f"127.0.0.1:{self.port}", "--database-url", url] + extra,
            env=env, stdout=self.logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {self.logf.name}")
            if attacks.request(self.port, "GET", "/healthz", timeout=1.0)["status"] == 200:
                return
            time.sleep(0.05)
        raise RuntimeError("server did not start")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.logf.close()


def comment(cycle, body, key=None):
    i = {"cycleId": cycle, "anchor": {"kind": "DOCUMENT"}, "type": "GENERAL", "body": body}
    if key:
        i["idempotencyKey"] = key
    return {"i": i}


def outcome(r):
    s = str(r["status"]) if r["status"] is not None else (r["error"] or "no answer")
    if r.get("code"):
        s += " " + r["code"]
    return s


def scenario_outage(binary, admin):
    db = Database(admin)
    proxy = Proxy(("127.0.0.1", urllib.parse.urlsplit(admin).port or 5432))
    srv = Server(binary, db.url_via(proxy), [])
    try:
        kenya = attacks.login(srv.port, attacks.KENYA)
        cycle = attacks.open_cycle_id(srv.port, kenya)
        ok = attacks.gql_request(srv.port, SUBMIT, comment(cycle, "before the outage"), token=kenya)
        assert ok["status"] == 200, ok
        proxy.cut()
        rows = {"submitComment": [], "viewer (token check)": [], "/readyz": []}
        for i in range(5):
            rows["submitComment"].append(attacks.gql_request(
                srv.port, SUBMIT, comment(cycle, f"during the outage {i}"), token=kenya, timeout=30))
            rows["viewer (token check)"].append(attacks.gql_request(
                srv.port, "{ viewer { id } }", token=kenya, timeout=30))
            rows["/readyz"].append(attacks.request(srv.port, "GET", "/readyz", timeout=30))
        out = {}
        for name, rs in rows.items():
            secs = [r["seconds"] for r in rs]
            out[name] = {
                "answers": sorted({outcome(r) for r in rs}),
                "median_s": round(statistics.median(secs), 3),
                "max_s": round(max(secs), 3),
            }
        proxy.restore()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 60:
            r = attacks.gql_request(srv.port, SUBMIT, comment(cycle, "after the outage"), token=kenya, timeout=30)
            if r["status"] == 200 and not r.get("code"):
                break
            time.sleep(0.02)
        out["recovery_s"] = round(time.monotonic() - t0, 3)
        return out
    finally:
        srv.stop()
        proxy.cut()
        db.drop()


def all_bodies(port, token, cycle):
    q = ("query($c: ID!, $a: String) { node(id: $c) { ... on ReviewCycle { comments(first: 100, after: $a) "
         "{ edges { node { body } } pageInfo { hasNextPage endCursor } } } } }")
    bodies, after = [], None
    while True:
        d = attacks.gql(port, q, {"c": cycle, "a": after}, token=token)["node"]["comments"]
        bodies += [e["node"]["body"] for e in d["edges"]]
        if not d["pageInfo"]["hasNextPage"]:
            return bodies
        after = d["pageInfo"]["endCursor"]


def scenario_slow(binary, admin, delay_ms, clients=32, each=6):
    db = Database(admin)
    proxy = Proxy(("127.0.0.1", urllib.parse.urlsplit(admin).port or 5432))
    srv = Server(binary, db.url_via(proxy), ["--request-timeout", "1s"])
    try:
        kenya = attacks.login(srv.port, attacks.KENYA)
        rapp = attacks.login(srv.port, attacks.RAPPORTEUR)
        cycle = attacks.open_cycle_id(srv.port, kenya)
        keys = "idempotencyKey" in json.dumps(attacks.gql(
            srv.port, '{ __type(name: "SubmitCommentInput") { inputFields { name } } }', token=kenya))
        before = len(all_bodies(srv.port, rapp, cycle))
        proxy.delay = delay_ms / 1000
        results = {}

        def client(n):
            for i in range(each):
                body = f"slow-{n}-{i}"
                key = f"key-{n}-{i}" if keys else None
                r = attacks.gql_request(srv.port, SUBMIT, comment(cycle, body, key), token=kenya, timeout=60)
                results[body] = r

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        proxy.delay = 0
        acked = {b for b, r in results.items() if r["status"] == 200 and not r.get("code")}
        failed = set(results) - acked
        stored = all_bodies(srv.port, rapp, cycle)
        stored_set = set(stored)
        lies = sorted(failed & stored_set)
        # Every failed submission is retried once, as a client would.
        for b in sorted(failed):
            n, i = b.split("-")[1:]
            key = f"key-{n}-{i}" if keys else None
            attacks.gql_request(srv.port, SUBMIT, comment(cycle, b, key), token=kenya, timeout=60)
        after = [b for b in all_bodies(srv.port, rapp, cycle) if b.startswith("slow-")]
        dupes = len(after) - len(set(after))
        return {
            "delay_ms": delay_ms,
            "idempotency_keys": keys,
            "submissions": len(results),
            "acknowledged": len(acked),
            "answers": {o: sum(1 for r in results.values() if outcome(r) == o)
                        for o in sorted({outcome(r) for r in results.values()})},
            "stored": len(stored) - before,
            "told_failed_but_stored": len(lies),
            "acknowledged_but_missing": len(acked - stored_set),
            "duplicates_after_one_retry_each": dupes,
        }
    finally:
        srv.stop()
        proxy.cut()
        db.drop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--label", default="")
    p.add_argument("--pg", default=os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"))
    p.add_argument("--only", default="outage,slow")
    p.add_argument("--delay-ms", default="10,20", help="one run of `slow` per value")
    p.add_argument("--out")
    a = p.parse_args()
    attacks.ARGS = argparse.Namespace(keep=False)
    out = {"label": a.label, "binary": a.binary}
    only = a.only.split(",")
    if "outage" in only:
        log("outage ...")
        out["outage"] = scenario_outage(a.binary, a.pg)
        log(json.dumps(out["outage"], indent=1))
    if "slow" in only:
        log("slow ...")
        out["slow"] = [scenario_slow(a.binary, a.pg, int(d)) for d in a.delay_ms.split(",")]
        log(json.dumps(out["slow"], indent=1))
    text = json.dumps(out, indent=1)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
