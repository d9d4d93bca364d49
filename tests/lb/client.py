"""Load through nginx while one kitreview instance is killed (run by scripts/lb-test.sh).

Subscribers follow cycleEvents of the demo's open cycle over graphql-transport-ws;
writers submit comments over HTTP, each with an idempotency key, and retry a
request that got no answer, 502, 503 or 504 with the same key, as the README tells
clients to. After a few seconds the given instance is killed with SIGKILL; a
subscriber whose socket closes reconnects through nginx and subscribes again.

Checks, each a failure when it does not hold:
- every writer's comment was acknowledged in the end (no request gave up);
- every acknowledged comment is there when read back, with its number;
- the cycle's numbers are 1..N with no gap and no duplicate, and the test's
  comments are exactly the acknowledged ones (a retry never stored a second copy);
- each subscription received every comment submitted after it was known to be in
  place (a subscription is in place once it has received an event: the first
  attempt of a later comment was sent after that, so the comment committed
  after the subscription was registered); before the kill, a subscription whose
  socket then closed received every comment acknowledged up to 2 s before the kill.
- at least one subscriber lost its socket and reconnected (else nothing was tested).
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import websockets

PASSWORD = "kitreview-demo-2026"
RAPPORTEUR = "rapporteur@itu.example"
WRITERS = ["delegate.kenya@itu.example", "delegate.france@itu.example",
           "delegate.egypt@itu.example", "expert.unep@itu.example"]
SUBMIT = """mutation($i: SubmitCommentInput!) {
  submitComment(input: $i) { comment { id number } } }"""
EVENTS = "subscription($c: ID!) { cycleEvents(cycleId: $c) { kind comment { id number } } }"
RETRYABLE_CODES = {"UNAVAILABLE", "TIMEOUT"}
PRE_KILL_MARGIN = 2.0


class Retry(Exception):
    """No answer, or an answer that says nothing was stored: send it again."""


def now():
    return time.monotonic()


def post(base, query, variables, token=None, timeout=15):
    body = json.dumps({"query": query, "variables": variables}).encode()
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"{base}/graphql", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as e:
        if e.code in (502, 503, 504):
            raise Retry(f"HTTP {e.code}") from e
        return e.code, json.loads(e.read() or b"null")
    except (OSError, json.JSONDecodeError) as e:  # refused, reset, timed out, cut short
        raise Retry(type(e).__name__) from e


def gql(base, query, variables=None, token=None):
    status, body = post(base, query, variables or {}, token)
    if status != 200 or body.get("errors"):
        raise RuntimeError(f"{query.split('(')[0]}: HTTP {status} {body}")
    return body["data"]


def login(base, email):
    return gql(base, "mutation($i: LoginInput!) { login(input: $i) { token } }",
               {"i": {"email": email, "password": PASSWORD}})["login"]["token"]


class Test:
    def __init__(self, args):
        self.a = args
        self.base = args.base.rstrip("/")
        self.ws_url = self.base.replace("http", "ws", 1) + "/graphql"
        self.acked = {}      # key -> {id, number, first_sent, acked_at, retries}
        self.failures = []
        self.retries = 0
        self.stop_writing = False
        self.stop_listening = False
        self.kill_at = None
        self.subs = []

    def fail(self, msg):
        self.failures.append(msg)

    async def run(self):
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=self.a.writers + 8))
        call = lambda f, *xs: loop.run_in_executor(None, f, *xs)  # noqa: E731
        self.rapporteur = await call(login, self.base, RAPPORTEUR)
        tokens = {e: await call(login, self.base, e) for e in WRITERS}
        data = await call(gql, self.base,
                          "{ questions(first: 10) { nodes { kits { modules { reviewCycles { id status } } } } } }",
                          None, self.rapporteur)
        cycles = [c for q in data["questions"]["nodes"] for k in q["kits"]
                  for m in k["modules"] for c in m["reviewCycles"]]
        self.cycle = next(c["id"] for c in cycles if c["status"] == "OPEN")

        self.subs = [Subscriber(self, i) for i in range(self.a.subscribers)]
        tasks = [asyncio.create_task(s.run()) for s in self.subs]
        await asyncio.sleep(1.0)
        # One comment that every subscription must receive before the load starts:
        # it proves each one is in place.
        probe = await self.submit(tokens[WRITERS[0]], "probe", 0)
        if probe:
            await self.wait_for(lambda: all(s.periods and s.periods[-1]["ready"] for s in self.subs), 15)
        for s in self.subs:
            if not (s.periods and s.periods[-1]["ready"]):
                self.fail(f"subscriber {s.i} received nothing before the load started")
        if self.failures:
            return await self.finish(tasks)

        writers = [asyncio.create_task(self.writer(i, tokens[WRITERS[i % len(WRITERS)]]))
                   for i in range(self.a.writers)]
        await asyncio.sleep(self.a.kill_after)
        self.kill_at = now()
        os.kill(self.a.kill_pid, signal.SIGKILL)
        print(f"lb-test: killed instance pid {self.a.kill_pid} (SIGKILL) "
              f"after {len(self.acked)} acknowledged comments", flush=True)
        await asyncio.sleep(self.a.run_after_kill)
        self.stop_writing = True
        await asyncio.gather(*writers)
        # Let the last events arrive.
        await self.wait_for(self.all_delivered, 10)
        return await self.finish(tasks)

    async def wait_for(self, cond, seconds):
        deadline = now() + seconds
        while not cond() and now() < deadline:
            await asyncio.sleep(0.1)

    async def finish(self, tasks):
        self.stop_listening = True
        for s in self.subs:
            await s.close()
        await asyncio.gather(*tasks, return_exceptions=True)
        return await asyncio.get_running_loop().run_in_executor(None, self.check)

    async def writer(self, i, token):
        n = 0
        while not self.stop_writing:
            n += 1
            if not await self.submit(token, f"w{i}", n):
                return

    async def submit(self, token, who, n):
        """One comment, retried with its key until it is acknowledged."""
        key = str(uuid.uuid4())
        variables = {"i": {"cycleId": self.cycle, "anchor": {"kind": "DOCUMENT"}, "type": "GENERAL",
                           "body": f"lb-test {who} #{n} {key}", "idempotencyKey": key}}
        first_sent = now()
        deadline = first_sent + 30
        retries = 0
        loop = asyncio.get_running_loop()
        while True:
            try:
                status, body = await loop.run_in_executor(None, post, self.base, SUBMIT, variables, token)
                codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or []}
                if codes & RETRYABLE_CODES:
                    raise Retry("/".join(sorted(c for c in codes if c)))
                if status != 200 or body.get("errors"):
                    self.fail(f"{who} #{n}: refused: HTTP {status} {body}")
                    return None
                c = body["data"]["submitComment"]["comment"]
                self.acked[key] = {"id": c["id"], "number": c["number"], "first_sent": first_sent,
                                   "acked_at": now(), "retries": retries, "who": who}
                return c
            except Retry as e:
                retries += 1
                self.retries += 1
                if self.a.no_retry:
                    self.fail(f"{who} #{n}: no acknowledgement ({e}), and --no-retry")
                    return None
                if now() > deadline:
                    self.fail(f"{who} #{n}: still no acknowledgement after 30 s ({e})")
                    return None
                await asyncio.sleep(0.2)

    def all_delivered(self):
        return all(not s.missing(final_only=True) for s in self.subs)

    def read_back(self):
        comments, after = [], None
        q = """query($c: ID!, $after: String) { node(id: $c) { ... on ReviewCycle {
                 comments(first: 100, after: $after) {
                   nodes { id number body state } pageInfo { hasNextPage endCursor } } } } }"""
        while True:
            page = gql(self.base, q, {"c": self.cycle, "after": after}, self.rapporteur)["node"]["comments"]
            comments += page["nodes"]
            if not page["pageInfo"]["hasNextPage"]:
                return comments
            after = page["pageInfo"]["endCursor"]

    def check(self):
        stored = [c for c in self.read_back() if c["number"] is not None]
        by_id = {c["id"]: c for c in stored}
        for key, a in self.acked.items():
            c = by_id.get(a["id"])
            if c is None:
                self.fail(f"acknowledged comment No. {a['number']} ({a['who']}) is not stored")
            elif c["number"] != a["number"]:
                self.fail(f"acknowledged as No. {a['number']}, stored as No. {c['number']}")
        numbers = sorted(c["number"] for c in stored)
        if numbers != list(range(1, len(numbers) + 1)):
            dupes = sorted({n for n in numbers if numbers.count(n) > 1})
            gaps = sorted(set(range(1, (numbers[-1] if numbers else 0) + 1)) - set(numbers))
            self.fail(f"numbers are not 1..{len(numbers)}: duplicates {dupes[:10]}, gaps {gaps[:10]}")
        ours = [c for c in stored if c["body"].startswith("lb-test ")]
        keys = [c["body"].rsplit(" ", 1)[1] for c in ours]
        extra = [c["number"] for c, k in zip(ours, keys) if k not in self.acked]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            self.fail(f"{len(twice)} idempotency keys stored more than once")
        if extra:
            self.fail(f"{len(extra)} comments stored but never acknowledged: Nos. {extra[:10]}")
        for s in self.subs:
            for msg in s.missing(final_only=False):
                self.fail(msg)
            if s.duplicates:
                self.fail(f"subscriber {s.i} received {s.duplicates} events twice on one subscription")
        reconnected = sum(1 for s in self.subs if len(s.periods) > 1)
        if reconnected == 0:
            self.fail("no subscriber lost its socket when the instance was killed: nothing was tested")
        deliveries = sum(len(p["got"]) for s in self.subs for p in s.periods)
        retried = sum(1 for a in self.acked.values() if a["retries"])
        print(f"lb-test: {len(self.acked)} comments acknowledged ({retried} after retries, "
              f"{self.retries} retries in all), {len(stored)} stored with numbers 1..{len(stored)}; "
              f"{self.a.subscribers} subscribers, {reconnected} reconnected "
              f"({sum(len(s.periods) - 1 for s in self.subs)} reconnections), "
              f"{deliveries} events delivered", flush=True)
        return self.failures


class Subscriber:
    """One graphql-transport-ws connection at a time; a new one when it closes."""

    def __init__(self, test, i):
        self.t, self.i = test, i
        self.periods = []  # {subscribed_at, ready, ended_at, got: {number: at}}
        self.ws = None
        self.duplicates = 0

    async def run(self):
        while not self.t.stop_listening:
            try:
                await self.session()
            except (OSError, websockets.exceptions.WebSocketException, asyncio.TimeoutError):
                pass
            if self.periods and self.periods[-1]["ended_at"] is None:
                self.periods[-1]["ended_at"] = now()
            if self.t.stop_listening:
                return
            if self.t.a.no_resubscribe and self.periods:
                return
            await asyncio.sleep(0.2)

    async def session(self):
        async with websockets.connect(self.t.ws_url, subprotocols=["graphql-transport-ws"],
                                      open_timeout=5, ping_interval=None) as ws:
            self.ws = ws
            await ws.send(json.dumps({"type": "connection_init",
                                      "payload": {"authorization": f"Bearer {self.t.rapporteur}"}}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if ack.get("type") != "connection_ack":
                raise websockets.exceptions.InvalidMessage(f"expected connection_ack, got {ack}")
            await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": EVENTS, "variables": {"c": self.t.cycle}}}))
            period = {"subscribed_at": now(), "ready": None, "ended_at": None, "got": {}}
            self.periods.append(period)
            async for raw in ws:
                msg = json.loads(raw)
                if msg.get("type") == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif msg.get("type") == "next":
                    ev = (msg.get("payload", {}).get("data") or {}).get("cycleEvents") or {}
                    at = now()
                    if period["ready"] is None:
                        period["ready"] = at
                    c = ev.get("comment") or {}
                    if ev.get("kind") == "COMMENT_SUBMITTED" and c.get("number"):
                        if c["number"] in period["got"]:
                            self.duplicates += 1
                        period["got"][c["number"]] = at
                elif msg.get("type") in ("error", "complete"):
                    self.t.fail(f"subscriber {self.i}: the subscription ended: {msg}")
                    return

    async def close(self):
        if self.ws is not None:
            await self.ws.close()

    def missing(self, final_only):
        """What each subscription should have received and did not."""
        out = []
        periods = self.periods[-1:] if final_only else self.periods
        for k, p in enumerate(periods):
            last = p is self.periods[-1]
            if p["ready"] is None:
                # It never received anything: then nothing may have been sent after it subscribed.
                due = [a for a in self.t.acked.values() if a["first_sent"] > p["subscribed_at"] + 1.0
                       and (last or a["acked_at"] < p["ended_at"])]
                if due and last:
                    out.append(f"subscriber {self.i}: subscribed again and received nothing, "
                               f"while {len(due)} comments were submitted after")
                continue
            if last:
                due = [a for a in self.t.acked.values() if a["first_sent"] > p["ready"]]
            else:
                # A subscription whose socket closed when the instance died: what was
                # acknowledged well before the kill must have reached it.
                cutoff = min(p["ended_at"], self.t.kill_at or p["ended_at"]) - PRE_KILL_MARGIN
                due = [a for a in self.t.acked.values() if p["ready"] < a["first_sent"] and a["acked_at"] < cutoff]
            lost = sorted(a["number"] for a in due if a["number"] not in p["got"])
            if lost:
                out.append(f"subscriber {self.i} (subscription {k + 1 if not final_only else len(self.periods)}"
                           f" of {len(self.periods)}): {len(lost)} of {len(due)} comments never arrived: "
                           f"Nos. {lost[:10]}")
        return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("base", help="the proxy, e.g. http://127.0.0.1:8081")
    p.add_argument("--kill-pid", type=int, required=True, help="the instance to kill mid-load")
    p.add_argument("--subscribers", type=int, default=20)
    p.add_argument("--writers", type=int, default=8)
    p.add_argument("--kill-after", type=float, default=4.0, help="seconds of load before the kill")
    p.add_argument("--run-after-kill", type=float, default=5.0, help="seconds of load after it")
    # Sabotage, to see the checks fail: clients that do not do what the README asks.
    p.add_argument("--no-retry", action="store_true", help="writers give up at the first lost answer")
    p.add_argument("--no-resubscribe", action="store_true", help="subscribers do not reconnect")
    args = p.parse_args()
    failures = asyncio.run(Test(args).run())
    for f in failures:
        print(f"lb-test: FAIL: {f}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print("lb-test: ok")


if __name__ == "__main__":
    main()
