"""The rapporteur's side (issue 15, first part): the consolidation table of
the demo's open cycle, decided inline, in bulk and from the keyboard; a
decision made elsewhere appears live and a stale save is refused; members are
refused; no serious accessibility violation."""

import re
import urllib.parse

from playwright.sync_api import expect

from conftest import KENYA, SECRETARIAT
from test_workspace import axe_violations, open_cycle, unique

RAPPORTEUR = "rapporteur@itu.example"
SUBMIT = """mutation($i: SubmitCommentInput!) { submitComment(input: $i) { comment { id number } } }"""
SET = """mutation($i: SetDispositionInput!) { setDisposition(input: $i) { comment { id dispositionVersion } } }"""
STATE = """query($id: ID!) { node(id: $id) { ... on Comment { dispositionVersion disposition { kind rationale decidedBy { displayName } } } } }"""


def table_path(cycle_id):
    return f"/cycles/{urllib.parse.quote(cycle_id)}/consolidation"


def row(page, number):
    return page.locator(f"tbody tr[data-number='{number}']")


def fresh_comments(server, cycle_id, n):
    """n new comments of Kenya's on the whole document: rows nobody decided."""
    out = []
    for _ in range(n):
        c = server.api.gql(KENYA, SUBMIT, {"i": {"cycleId": cycle_id, "anchor": {"kind": "DOCUMENT"},
                                                 "type": "EDITORIAL", "body": unique("Table test")}})
        out.append(c["submitComment"]["comment"])
    return out


def test_rapporteur_decides_inline_in_bulk_and_by_keyboard(server, contexts, demo):
    gov, _ = demo
    cycle = open_cycle(gov)
    a, b, c, d = fresh_comments(server, cycle["id"], 4)
    page = contexts.page(RAPPORTEUR)
    page.goto(table_path(cycle["id"]))
    expect(row(page, a["number"])).to_be_visible()
    expect(page.locator("#progress-h")).to_contain_text("remain")

    # the text filter narrows the table
    page.get_by_label("Text").fill("no such words anywhere")
    expect(page.locator("tbody tr[data-number]")).to_have_count(0)
    page.get_by_label("Text").fill("")
    page.get_by_label("Undecided only").check()
    expect(row(page, a["number"])).to_be_visible()

    # inline: a rejection needs its rationale; then it is saved
    r = row(page, a["number"])
    r.locator("select.kind").select_option("REJECTED")
    row(page, a["number"]).locator("button.save").click()
    expect(row(page, a["number"]).locator(".row-error")).to_contain_text("rationale")
    row(page, a["number"]).locator("textarea.rationale").fill("Out of scope for this module.")
    row(page, a["number"]).locator("button.save").click()
    expect(page.locator("#status")).to_contain_text("saved")
    # decided, so "undecided only" no longer shows it
    expect(row(page, a["number"])).to_have_count(0)
    got = server.api.gql(RAPPORTEUR, STATE, {"id": a["id"]})["node"]
    assert got["disposition"]["kind"] == "REJECTED", got

    # the keyboard: focus a row, "a" accepts, Ctrl+Enter saves
    page.get_by_label("Undecided only").uncheck()
    row(page, b["number"]).focus()
    page.keyboard.press("a")
    page.keyboard.press("Control+Enter")
    expect(row(page, b["number"])).not_to_have_class(re.compile("dirty"))
    expect(row(page, b["number"]).locator(".history summary")).to_contain_text("1 decision")
    assert server.api.gql(RAPPORTEUR, STATE, {"id": b["id"]})["node"]["disposition"]["kind"] == "ACCEPTED"

    # bulk: two rows selected, one disposition for both, all or nothing
    for x in (c, d):
        row(page, x["number"]).locator("input.pick").check()
    expect(page.locator(".bulk")).to_contain_text("2 rows selected")
    page.locator("#bulk-kind").select_option("NOTED")
    page.locator("#bulk-rationale").fill("Noted for revision 3.")
    page.locator("#bulk-apply").click()
    expect(page.locator("#status")).to_contain_text("2 dispositions saved")
    for x in (c, d):
        assert server.api.gql(RAPPORTEUR, STATE, {"id": x["id"]})["node"]["disposition"]["kind"] == "NOTED"


def test_live_decisions_and_stale_saves(server, contexts, demo):
    gov, _ = demo
    cycle = open_cycle(gov)
    (a,) = fresh_comments(server, cycle["id"], 1)
    page = contexts.page(RAPPORTEUR)
    page.goto(table_path(cycle["id"]))
    expect(row(page, a["number"])).to_be_visible()
    expect(page.locator(".live")).to_have_text(re.compile("Live"))
    # the rapporteur starts editing; the secretariat decides meanwhile
    row(page, a["number"]).locator("select.kind").select_option("ACCEPTED")
    server.api.gql(SECRETARIAT, SET, {"i": {"commentId": a["id"], "kind": "NOTED", "rationale": "Seen by the secretariat."}})
    # the other decision arrives live (in the history), the edit is kept
    expect(row(page, a["number"]).locator(".history summary")).to_contain_text("1 decision")
    expect(row(page, a["number"]).locator("select.kind")).to_have_value("ACCEPTED")
    row(page, a["number"]).locator("button.save").click()
    expect(row(page, a["number"]).locator(".row-error")).to_contain_text("since you loaded it")
    got = server.api.gql(RAPPORTEUR, STATE, {"id": a["id"]})["node"]
    assert got["disposition"]["kind"] == "NOTED" and got["dispositionVersion"] == 1, got


def test_members_are_refused_and_the_page_is_accessible(server, contexts, demo):
    gov, _ = demo
    cycle = open_cycle(gov)
    member = contexts.page(KENYA)
    member.goto(table_path(cycle["id"]))
    expect(member.locator("[data-refused]")).to_be_visible()
    expect(member.locator("table.consolidation")).to_have_count(0)

    page = contexts.new(RAPPORTEUR, bypass_csp=True).new_page()
    page.goto(table_path(cycle["id"]))
    expect(page.locator("tbody tr[data-number]").first).to_be_visible()
    assert not axe_violations(page)


def test_duplicates_five_at_once_consolidated_and_downloaded(server, contexts):
    import zipfile
    from test_workspace_publish import make_module
    mod, numbers = make_module(server)
    api = server.api
    cycle = api.gql(SECRETARIAT, "query($m: ID!) { node(id: $m) { ... on Module { reviewCycles { id } } } }",
                    {"m": mod})["node"]["reviewCycles"][0]["id"]
    extra = fresh_comments(server, cycle, 4)
    ordered = sorted(numbers.values()) + [c["number"] for c in extra]   # 8 comments
    page = contexts.page(RAPPORTEUR)
    page.goto(table_path(cycle))
    expect(page.locator("tbody tr[data-number]")).to_have_count(8)

    # two rows are duplicates of a third
    target = ordered[0]
    for n in ordered[1:3]:
        row(page, n).locator("select.kind").select_option("DUPLICATE")
        value = row(page, n).locator("select.duplicate option", has_text=f"No. {target} (").first.get_attribute("value")
        row(page, n).locator("select.duplicate").select_option(value)
        row(page, n).locator("textarea.rationale").fill(f"Same point as No. {target}.")
        row(page, n).locator("button.save").click()
        expect(row(page, n)).not_to_have_class(re.compile("dirty"))
    dup = api.gql(RAPPORTEUR, """query($c: ID!) { node(id: $c) { ... on ReviewCycle { comments(first: 20) {
        nodes { number disposition { kind duplicateOf { number } } } } } } }""", {"c": cycle})["node"]["comments"]["nodes"]
    dups = {c["number"]: c["disposition"] for c in dup if c["disposition"]}
    assert all(dups[n]["kind"] == "DUPLICATE" and dups[n]["duplicateOf"]["number"] == target for n in ordered[1:3]), dups

    # one disposition for five rows at once; the page says what remains
    for n in ordered[3:8]:
        row(page, n).locator("input.pick").check()
    page.locator("#bulk-kind").select_option("ACCEPTED")
    page.locator("#bulk-apply").click()
    expect(page.locator("#status")).to_contain_text("5 dispositions saved")
    expect(page.locator("#progress-h")).to_contain_text("7 of 8 comments decided; 1 remain")

    # closed: mark consolidated with the one still undecided, after saying so
    api.gql(SECRETARIAT, "mutation($i: CycleIdInput!) { closeReviewCycleNow(input: $i) { cycle { status } } }", {"i": {"cycleId": cycle}})
    page.reload()
    expect(page.locator("#mark-consolidated")).to_be_disabled()
    expect(page.locator("#mark-why")).to_contain_text("1 comment still needs a disposition")
    last = ordered[0]
    row(page, last).focus()
    page.keyboard.press("a")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#progress-h")).to_contain_text("8 of 8 comments decided")
    asked = []
    page.on("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.locator("#mark-consolidated").click()
    expect(page.locator("#status")).to_contain_text("marked consolidated")
    assert asked, "a confirmation is asked first"

    # the downloads, with the session (no token)
    with page.expect_download() as d:
        page.get_by_role("link", name="Download the table (XLSX)").click()
    xlsx = d.value.path()
    with zipfile.ZipFile(xlsx) as z:
        text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    for name in ("keep", "move", "edit", "drop"):
        assert f"On the {name} paragraph." in text, name
    with page.expect_download() as d:
        page.get_by_role("link", name="Download the table (CSV)").click()
    csv = open(d.value.path(), encoding="utf-8-sig").read()
    assert csv.count("Table test") == 4 and "DUPLICATE" in csv.upper(), csv[:500]
