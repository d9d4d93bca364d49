"""The issue's browser tests: each drives the real workspace in chromium, on
SQLite and on PostgreSQL (see conftest.py)."""

import datetime as dt
import http.server
import json
import re
import secrets
import threading
import urllib.parse

import pytest
from playwright.sync_api import expect

from conftest import AXE, FRANCE, KENYA, PASSWORD, SECRETARIAT, free_port

COMMENTS_Q = """query($c: ID!) { node(id: $c) { ... on ReviewCycle { comments(first: 100) { totalCount nodes {
  id number state body proposedChange type
  anchor { kind blockAnchorId quote { exact prefix suffix start end } }
  replies(first: 20) { nodes { body } } } } } } }"""


def rev_path(module_id, n, cycle=None):
    p = f"/modules/{urllib.parse.quote(module_id)}/revisions/{n}"
    return p + (f"?cycle={urllib.parse.quote(cycle)}" if cycle else "")


def open_cycle(module):
    return next(c for c in module["reviewCycles"] if c["status"] == "OPEN" and c["visibility"] == "OPEN")


def comments(server, email, cycle_id):
    return server.api.gql(email, COMMENTS_Q, {"c": cycle_id})["node"]["comments"]["nodes"]


def wait_ready(page):
    """The revision page is drawn and its comments are loaded."""
    expect(page.locator("#panel-count")).not_to_be_empty()


def unique(word):
    return f"{word} {secrets.token_hex(4)}"


# 1 -------------------------------------------------------------------------
def test_comment_on_a_selection(server, contexts, demo):
    gov, _ = demo
    cycle = open_cycle(gov)
    page = contexts.page()
    page.goto(rev_path(gov["id"], 2))
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    page.get_by_label("E-mail").fill(KENYA)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(rev_path(gov["id"], 2)) + "$"))
    wait_ready(page)

    # select words 3 to 7 of the first paragraph, as a drag would, then let go
    picked = page.evaluate("""() => {
      const body = document.querySelector('.doc .block-paragraph .block-body');
      const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
      let node;
      while ((node = walker.nextNode()) && node.data.trim().split(/\\s+/).length < 9) {}
      const words = [...node.data.matchAll(/\\S+/g)];
      const start = words[2].index, end = words[6].index + words[6][0].length;
      const range = document.createRange();
      range.setStart(node, start);
      range.setEnd(node, end);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      const r = range.getBoundingClientRect();
      node.parentElement.dispatchEvent(new MouseEvent('mouseup', { bubbles: true, clientX: r.right, clientY: r.bottom }));
      return { exact: range.toString(), block: body.closest('[data-block]').dataset.block };
    }""")
    button = page.get_by_role("button", name="Comment on the selection")
    expect(button).to_be_visible()
    button.click()
    form = page.locator("form.composer")
    expect(form).to_be_visible()
    expect(form.locator("#c-quote")).to_have_value(picked["exact"])
    form.get_by_label(re.compile("Editorial")).check()
    body = unique("The phrase should say what the index measures.")
    form.get_by_label("Comment", exact=True).fill(body)
    form.get_by_label("Proposed change").fill("Replace it with a precise wording.")
    form.get_by_role("button", name="Submit now").click()

    status = page.locator("#status")
    expect(status).to_contain_text(re.compile(r"Comment submitted as No\. \d+\."))
    number = int(re.search(r"No\. (\d+)", status.inner_text()).group(1))
    card = page.locator(f"li.comment[data-number='{number}']")
    expect(card).to_contain_text(f"No. {number}")
    expect(card).to_contain_text(body)
    expect(card.locator("blockquote.quote")).to_have_text(picked["exact"])

    stored = next(c for c in comments(server, KENYA, cycle["id"]) if c["number"] == number)
    assert stored["body"] == body and stored["state"] == "SUBMITTED" and stored["type"] == "EDITORIAL"
    assert stored["proposedChange"] == "Replace it with a precise wording."
    a = stored["anchor"]
    assert a["kind"] == "QUOTE" and a["blockAnchorId"] == picked["block"]
    assert a["quote"]["exact"] == picked["exact"]
    assert a["quote"]["prefix"] and a["quote"]["suffix"], a


# 2 -------------------------------------------------------------------------
def test_sealed_cycle_hides_other_delegations_until_closed(server, contexts, demo):
    _, env = demo
    now = dt.datetime.now(dt.timezone.utc)
    cycle = server.api.gql(SECRETARIAT, """mutation($i: OpenReviewCycleInput!) {
        openReviewCycle(input: $i) { cycle { id status visibility } } }""", {"i": {
        "revisionId": env["currentRevision"]["id"], "title": "Sealed browser-test cycle",
        "opensAt": (now - dt.timedelta(minutes=1)).isoformat(), "closesAt": (now + dt.timedelta(days=7)).isoformat(),
        "visibility": "SEALED"}})["openReviewCycle"]["cycle"]
    assert cycle["status"] == "OPEN" and cycle["visibility"] == "SEALED"
    path = rev_path(env["id"], env["currentRevision"]["number"], cycle["id"])

    kenya = contexts.page(KENYA)
    kenya.goto(path)
    wait_ready(kenya)
    expect(kenya.locator("[data-banner=sealed]")).to_be_visible()
    kenya.locator(".doc .block-paragraph .tool").first.click()
    body = unique("Kenya's sealed comment")
    kenya.get_by_label("Comment", exact=True).fill(body)
    kenya.get_by_role("button", name="Submit now").click()
    expect(kenya.locator("#status")).to_contain_text("Comment submitted as No.")
    expect(kenya.locator("li.comment", has_text=body)).to_be_visible()

    france = contexts.page(FRANCE)
    france.goto(path)
    wait_ready(france)
    expect(france.locator("[data-banner=sealed]")).to_be_visible()
    expect(france.locator("main")).not_to_contain_text(body)
    assert not any(c["body"] == body for c in comments(server, FRANCE, cycle["id"]))

    server.api.gql(SECRETARIAT, "mutation($i: CycleIdInput!) { closeReviewCycleNow(input: $i) { cycle { status } } }",
                   {"i": {"cycleId": cycle["id"]}})
    france.reload()
    wait_ready(france)
    expect(france.locator("li.comment", has_text=body)).to_be_visible()
    expect(france.locator("[data-banner=sealed]")).to_have_count(0)
    expect(france.locator("[data-banner=closed]")).to_be_visible()


# 3 -------------------------------------------------------------------------
def test_a_reply_appears_live(server, contexts, demo):
    gov, _ = demo
    path = rev_path(gov["id"], 2)
    kenya, france = contexts.page(KENYA), contexts.page(FRANCE)
    for p in (kenya, france):
        p.goto(path)
        wait_ready(p)
        expect(p.locator(".live-up")).to_be_visible()
    card = france.locator("li.comment").filter(has=france.get_by_role("button", name="Reply")).first
    number = card.get_attribute("data-number")
    card.get_by_role("button", name="Reply").click()
    text = unique("France agrees with this comment")
    card.locator(".inline-form textarea").fill(text)
    card.locator(".inline-form").get_by_role("button", name="Save").click()
    expect(france.locator("#status")).to_contain_text("Reply")
    # Kenya's page was not reloaded: the reply comes over the subscription
    expect(kenya.locator(f"li.comment[data-number='{number}'] .replies")).to_contain_text(text, timeout=10000)


# 4 -------------------------------------------------------------------------
def tab_to(page, predicate, limit=300, back=False):
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate(predicate):
            return
    raise AssertionError(f"never reached {predicate} with the keyboard")


def test_keyboard_only_commenting(server, contexts, demo):
    gov, _ = demo
    page = contexts.page(KENYA)
    page.goto(rev_path(gov["id"], 2))
    wait_ready(page)
    # from the top of the page to a paragraph's own "Comment" button
    tab_to(page, "() => { const a = document.activeElement; return a.matches('.block-paragraph .tool') }")
    label = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    assert label.startswith("Comment on this paragraph")
    page.keyboard.press("Enter")
    expect(page.locator("#c-body")).to_be_focused()
    body = unique("Typed with the keyboard only")
    page.keyboard.type(body)
    # back and forth: Shift+Tab to the type choice and Tab again to the comment
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.name") == "c-type"
    page.keyboard.press("Tab")
    expect(page.locator("#c-body")).to_be_focused()
    tab_to(page, "() => document.activeElement.textContent === 'Submit now'", limit=10)
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("Comment submitted as No.")
    expect(page.locator("li.comment", has_text=body)).to_be_visible()


# 5 -------------------------------------------------------------------------
def test_french_interface_and_language_switch(server, contexts, demo):
    gov, _ = demo
    ctx = contexts.new(locale="fr-FR")
    page = ctx.new_page()
    page.goto("/sign-in")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    page.get_by_label("Adresse électronique").or_(page.locator("#email")).first.fill(KENYA)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.sign-in button[type=submit]").click()
    expect(page.locator("main h1")).to_contain_text("Bienvenue")
    page.goto(rev_path(gov["id"], 2))
    wait_ready(page)
    expect(page.locator("#panel-title")).to_contain_text("Commentaires")

    page.locator("#lang").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#panel-title")).to_contain_text("Comments")
    expect(page.locator("#panel-title")).not_to_contain_text("Commentaires")
    page.locator("#lang").select_option("fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#panel-title")).to_contain_text("Commentaires")


# 6 -------------------------------------------------------------------------
def test_diff_page(server, contexts, demo):
    gov, _ = demo
    page = contexts.page(KENYA)
    page.goto("/")
    link = page.locator(f"a[href^='/modules/{gov['id']}/diff']")
    expect(link).to_have_text("what changed")
    link.click()
    expect(page).to_have_url(re.compile(r"/diff\?from=1&to=2$"))
    expect(page.locator("main h1")).to_have_text("Revision 1 → revision 2")
    assert page.locator("main ins").count() > 0
    assert page.locator("main del").count() > 0
    moved = page.locator(".diff-block.diff-moved")
    assert moved.count() > 0, "the demo's revision 2 moves a paragraph"
    expect(moved.first.locator(".pill")).to_have_text("Moved")

    page.get_by_role("link", name="Side by side").click()
    expect(page).to_have_url(re.compile(r"view=side"))
    side = page.locator(".diff-block .side").first
    expect(side).to_be_visible()
    assert page.locator(".side .from del").count() > 0
    assert page.locator(".side .to ins").count() > 0
    assert page.locator(".side .from ins").count() == 0 and page.locator(".side .to del").count() == 0
    boxes = [page.locator(".diff-changed .side .from").first.bounding_box(),
             page.locator(".diff-changed .side .to").first.bounding_box()]
    assert boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"] + 1, boxes


# 7 -------------------------------------------------------------------------
def test_wrong_password(server, contexts):
    ctx = contexts.new()
    page = ctx.new_page()
    page.goto("/sign-in")
    page.get_by_label("E-mail").fill(KENYA)
    page.get_by_label("Password").fill("not-the-password")
    with page.expect_response(lambda r: r.url.endswith("/session") and r.request.method == "POST") as res:
        page.get_by_role("button", name="Sign in").click()
    assert res.value.status == 401
    expect(page.locator("#sign-in-error")).to_have_text("The e-mail address or the password is not right.")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    assert not [c for c in ctx.cookies() if c["name"].startswith("kitreview_session")], ctx.cookies()


# 8 -------------------------------------------------------------------------
class Attacker(http.server.BaseHTTPRequestHandler):
    pages = {}

    def do_GET(self):
        body = self.pages.get(self.path.split("?")[0], "").encode()
        self.send_response(200 if body else 404)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_cross_site_posts_are_refused(server, contexts, demo):
    gov, _ = demo
    cycle = open_cycle(gov)
    marker = unique("forged")
    mutation = ('mutation { submitComment(input: { cycleId: "%s", anchor: { kind: DOCUMENT }, type: GENERAL, '
                'body: "%s" }) { comment { id } } }') % (cycle["id"], marker)
    payload = json.dumps({"query": mutation, "x": ""})[:-2]  # ends in `"x": "`: the form adds `="}`

    def form(action, fields):
        inputs = "".join(f"<input type=hidden name='{n}' value='{v}'>" for n, v in fields)
        return (f"<!doctype html><title>win a prize</title><form id=f method=POST action='{server.base}{action}' "
                f"enctype=text/plain>{inputs}</form><script>document.getElementById('f').submit()</script>")
    Attacker.pages = {
        "/graphql": form("/graphql", [(payload, '"}')]),
        "/sign-out": form("/session/sign-out", [("x", "y")]),
        "/sign-in": form("/session", [(json.dumps({"email": FRANCE, "password": PASSWORD, "x": ""})[:-3], '"}')]),
        "/fetch": f"""<!doctype html><title>win a prize</title><script>
window.results = fetch('{server.base}/graphql', {{ method: 'POST', credentials: 'include',
    headers: {{ 'content-type': 'application/json' }}, body: {json.dumps(json.dumps({"query": mutation}))} }})
  .then((r) => 'answered ' + r.status, (e) => 'blocked: ' + e.name);
</script>""",
    }
    port = free_port()
    evil = http.server.ThreadingHTTPServer(("127.0.0.1", port), Attacker)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    evil_origin = f"http://127.0.0.1:{port}"
    try:
        before = len(comments(server, KENYA, cycle["id"]))
        page = contexts.page(KENYA)
        page.goto("/")
        expect(page.locator("main h1")).to_contain_text("Welcome")

        # auto-submitting forms: top-level navigations that carry the (same-site: only the
        # port differs) SameSite=Lax session cookie
        answers = {}
        for name, path in [("sign-out", "/session/sign-out"), ("sign-in", "/session"), ("graphql", "/graphql")]:
            with page.expect_response(f"{server.base}{path}") as res:
                page.goto(f"{evil_origin}/{name}")
            assert res.value.request.headers.get("origin") == evil_origin
            assert "kitreview_session=" in (res.value.request.header_value("cookie") or "")
            answers[name] = (res.value.status, res.value.text())
        assert answers["sign-out"][0] == 403 and "cross-site" in answers["sign-out"][1], answers
        assert answers["sign-in"][0] == 403 and "cross-site" in answers["sign-in"][1], answers
        # a form cannot send JSON, but the refusal is for the site, before the body is read
        assert answers["graphql"][0] == 403 and "cross-site" in answers["graphql"][1], answers
        # fetch with JSON from the other origin needs a CORS preflight, which is refused:
        # the POST is never sent
        page.goto(f"{evil_origin}/fetch")
        assert page.evaluate("window.results") == "blocked: TypeError"

        after = comments(server, KENYA, cycle["id"])
        assert len(after) == before and not any(marker in c["body"] for c in after)
        # still signed in as Kenya: neither signed out nor switched to France
        page.goto(server.url("/"))
        expect(page.locator(".who")).to_contain_text("Kenya")
    finally:
        evil.shutdown()


# 9 -------------------------------------------------------------------------
def axe_violations(page):
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
      const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
    }""")
    return found


@pytest.mark.parametrize("locale", ["en-US", "fr-FR"])
def test_accessibility(server, contexts, demo, locale):
    assert AXE.is_file(), "run `npm ci --prefix tests/browser` for axe-core"
    gov, _ = demo
    problems = {}
    anon = contexts.new(locale=locale, bypass_csp=True).new_page()
    anon.goto("/sign-in")
    expect(anon.locator("form.sign-in")).to_be_visible()
    problems["sign-in"] = axe_violations(anon)

    page = contexts.new(KENYA, locale=locale, bypass_csp=True).new_page()
    page.goto("/")
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator(".module").first).to_be_visible()
    problems["home"] = axe_violations(page)

    page.goto(rev_path(gov["id"], 2))
    wait_ready(page)
    page.locator(".doc .block-paragraph .tool").first.click()
    expect(page.locator("form.composer")).to_be_visible()
    problems["revision"] = axe_violations(page)

    page.goto(f"/modules/{gov['id']}/diff?from=1&to=2")
    expect(page.locator(".diff-block").first).to_be_visible()
    problems["diff"] = axe_violations(page)
    page.goto(f"/modules/{gov['id']}/diff?from=1&to=2&view=side")
    expect(page.locator(".side").first).to_be_visible()
    problems["diff side by side"] = axe_violations(page)

    problems = {k: v for k, v in problems.items() if v}
    assert not problems, problems


# 10 ------------------------------------------------------------------------
def test_phone_viewport(server, contexts, demo):
    gov, _ = demo
    ctx = contexts.new(KENYA, viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True,
                       device_scale_factor=2)
    page = ctx.new_page()
    page.goto(rev_path(gov["id"], 2))
    wait_ready(page)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways: {width}px wide"
    tool = page.locator(".doc .block-paragraph .tool").first
    tool.scroll_into_view_if_needed()
    box = tool.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    assert float(tool.evaluate("(el) => getComputedStyle(el).opacity")) == 1
    tool.tap()
    expect(page.locator("form.composer")).to_be_visible()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375, f"with the form open the page scrolls sideways: {width}px wide"
    submit = page.get_by_role("button", name="Submit now")
    submit.scroll_into_view_if_needed()
    sb = submit.bounding_box()
    assert sb["x"] >= 0 and sb["x"] + sb["width"] <= 375, sb
