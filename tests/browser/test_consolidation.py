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
