"""Page weight and timing of the demo revision page, printed for the notes
(run with `-s` to see them; scripts/browser-tests.sh does)."""

import json
import urllib.parse

from conftest import KENYA
from test_workspace import rev_path, wait_ready


def kind(request):
    path = urllib.parse.urlsplit(request.url).path
    if path == "/graphql":
        return "graphql"
    if path.startswith("/assets/i18n/"):
        return "json"
    return {"document": "html", "stylesheet": "css", "script": "js"}.get(request.resource_type, "other")


def test_revision_page_weight_and_timing(server, contexts, demo, capsys):
    gov, _ = demo
    page = contexts.page(KENYA)
    done = []
    page.on("requestfinished", lambda r: done.append(r))
    page.goto(rev_path(gov["id"], 2))
    wait_ready(page)
    page.wait_for_timeout(500)

    totals, graphql = {}, []
    for r in done:
        sizes = r.sizes()
        res = r.response()
        k = kind(r)
        t = totals.setdefault(k, {"requests": 0, "bytes": 0, "body": 0})
        t["requests"] += 1
        t["bytes"] += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        t["body"] += sizes["responseBodySize"]
        if k == "graphql":
            timing = r.timing
            query = (json.loads(r.post_data or "{}").get("query")
                     or urllib.parse.parse_qs(urllib.parse.urlsplit(r.url).query).get("query", [""])[0]).strip()
            op = query.split("(")[0].split("{")[0].strip() or "{ " + query.strip("{ ").split()[0] + " }"
            graphql.append({
                "operation": op or "(anonymous)",
                "server_ms": round(timing["responseStart"] - timing["requestStart"], 1),
                "total_ms": round(timing["responseEnd"], 1),
                "bytes": sizes["responseBodySize"],
                "encoding": res.headers.get("content-encoding", "identity"),
                "server_timing": res.headers.get("server-timing"),
            })
    assert totals["html"]["requests"] == 1 and totals["js"]["requests"] >= 5 and totals["graphql"]["requests"] >= 2
    shell = sum(totals[k]["bytes"] for k in ("html", "css", "js"))
    with capsys.disabled():
        print(f"\n[{server.backend}] revision page, cold cache:")
        for k in ("html", "css", "js", "json", "graphql", "other"):
            if k in totals:
                print(f"  {k:8} {totals[k]['requests']:2} requests  {totals[k]['bytes']:7} bytes transferred "
                      f"({totals[k]['body']} body)")
        print(f"  HTML+CSS+JS: {shell} bytes")
        for g in graphql:
            print(f"  GraphQL {g['operation']:28} server {g['server_ms']:6} ms  (done at {g['total_ms']} ms)  "
                  f"{g['bytes']} bytes {g['encoding']}" + (f"  Server-Timing: {g['server_timing']}" if g["server_timing"] else ""))
    # a budget the page keeps today, with room: the shell stays small
    assert shell < 400_000, totals


def test_a_reload_revalidates_the_answers(server, contexts, demo, capsys):
    """Read again, an unchanged page gets its answers back as 304 Not Modified:
    the browser kept them and asked with their ETags."""
    gov, _ = demo
    page = contexts.page(KENYA)
    page.goto(rev_path(gov["id"], 2))
    wait_ready(page)
    page.wait_for_timeout(300)
    seen = []
    page.on("response", lambda r: seen.append(r) if urllib.parse.urlsplit(r.url).path == "/graphql" else None)
    page.reload()
    wait_ready(page)
    page.wait_for_timeout(300)
    # The page sees the kept answer (200); what went over the wire was the
    # ETag out and an empty 304 back.
    sent = [(r.request.all_headers().get("if-none-match"), r.all_headers().get("etag"), r.request.sizes()["responseBodySize"])
            for r in seen]
    with capsys.disabled():
        print(f"\n[{server.backend}] revision page reloaded: {len(sent)} GraphQL requests, "
              f"response bodies {[b for _, _, b in sent]} bytes")
    assert sent and all(inm and inm == tag and body == 0 for inm, tag, body in sent), sent
