"""The next revision from the page (issue 15, item 4): the rapporteur edits the
text, names two comments it addresses and publishes; the carried comments show
EXACT, MOVED, FUZZY and ORPHANED; a publication made first elsewhere is told
plainly. A module of its own, so the demo's stay as the other tests expect."""

import datetime as dt
import re
import secrets

from playwright.sync_api import expect

from conftest import KENYA, SECRETARIAT

RAPPORTEUR = "rapporteur@itu.example"

PARAS = {
    "keep": "The national portal lists every public service with its legal basis and the office that provides it.",
    "move": "Each ministry names one officer who answers for the accuracy of its entries in the portal register.",
    "edit": "Service descriptions are reviewed every two years by the coordinating agency together with the users.",
    "drop": "A printed catalogue of services is distributed to every district office once a year.",
}
DRAFT = f"""# Module 9: Service catalogues

## 1 Scope

{PARAS['keep']}

{PARAS['move']}

## 2 Maintenance

{PARAS['edit']}

{PARAS['drop']}
"""
NEXT = f"""# Module 9: Service catalogues

## 1 Scope

{PARAS['keep']}

## 2 Maintenance

{PARAS['edit'].replace('every two years', 'every three years')}

{PARAS['move']}
"""


def make_module(server):
    api = server.api
    q = api.gql(SECRETARIAT, "{ questions(first: 5) { nodes { id } } }")["questions"]["nodes"][0]["id"]
    kit = api.gql(SECRETARIAT, "mutation($i: CreateKitInput!) { createKit(input: $i) { kit { id } } }",
                  {"i": {"questionId": q, "title": f"Publishing test kit {secrets.token_hex(3)}"}})["createKit"]["kit"]["id"]
    mod = api.gql(SECRETARIAT, "mutation($i: CreateModuleInput!) { createModule(input: $i) { module { id } } }",
                  {"i": {"kitId": kit, "number": 9, "title": "Service catalogues"}})["createModule"]["module"]["id"]
    rev = api.gql(SECRETARIAT, """mutation($i: CreateRevisionInput!) { createRevision(input: $i) {
        revision { id sections { blocks { anchorId text } } } } }""",
                  {"i": {"moduleId": mod, "markdown": DRAFT, "summary": "First draft."}})["createRevision"]["revision"]
    now = dt.datetime.now(dt.timezone.utc)
    cycle = api.gql(SECRETARIAT, "mutation($i: OpenReviewCycleInput!) { openReviewCycle(input: $i) { cycle { id } } }",
                    {"i": {"revisionId": rev["id"], "title": "Publishing test cycle", "visibility": "OPEN",
                           "opensAt": (now - dt.timedelta(minutes=1)).isoformat(),
                           "closesAt": (now + dt.timedelta(days=3)).isoformat()}})["openReviewCycle"]["cycle"]["id"]
    blocks = {b["text"]: b["anchorId"] for s in rev["sections"] for b in s["blocks"]}
    numbers = {}
    for name, text in PARAS.items():
        c = api.gql(KENYA, """mutation($i: SubmitCommentInput!) { submitComment(input: $i) { comment { number } } }""",
                    {"i": {"cycleId": cycle, "type": "TECHNICAL", "body": f"On the {name} paragraph.",
                           "anchor": {"kind": "BLOCK", "blockAnchorId": blocks[text]}}})
        numbers[name] = c["submitComment"]["comment"]["number"]
    return mod, numbers


def test_publish_the_next_revision_and_see_the_carried_comments(server, contexts):
    mod, numbers = make_module(server)
    page = contexts.page(RAPPORTEUR)
    page.goto(f"/modules/{mod}/publish")
    expect(page.locator("#p-markdown")).to_have_value(DRAFT)
    page.locator("#p-markdown").fill(NEXT)
    page.locator("#p-summary").fill("Maintenance every three years; the printed catalogue dropped.")
    for name in ("edit", "drop"):
        page.locator(".addressed li", has_text=f"On the {name} paragraph").locator("input").check()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page).to_have_url(re.compile(r"/revisions/2/carried$"))
    expect(page.locator("h1")).to_contain_text("revision 2")
    for name, status in (("keep", "EXACT"), ("move", "MOVED"), ("edit", "FUZZY"), ("drop", "ORPHANED")):
        item = page.locator(".carried > li", has_text=f"On the {name} paragraph")
        expect(item).to_have_attribute("data-status", status)
    expect(page.locator("[role=note]")).to_contain_text("1 comment lost its passage")
    addressed = server.api.gql(RAPPORTEUR, """query($m: ID!) { node(id: $m) { ... on Module {
        diff(fromRevision: 1, toRevision: 2) { addressedComments { number } } } } }""", {"m": mod})
    got = sorted(c["number"] for c in addressed["node"]["diff"]["addressedComments"])
    assert got == sorted([numbers["edit"], numbers["drop"]]), got

    # someone publishes first: the later publication is told, and keeps its text
    page.goto(f"/modules/{mod}/publish")
    expect(page.locator("#p-markdown")).to_have_value(NEXT)
    base = server.api.gql(RAPPORTEUR, "query($m: ID!) { node(id: $m) { ... on Module { currentRevision { id } } } }",
                          {"m": mod})["node"]["currentRevision"]["id"]
    server.api.gql(SECRETARIAT, "mutation($i: CreateRevisionInput!) { createRevision(input: $i) { revision { number } } }",
                   {"i": {"moduleId": mod, "baseRevisionId": base, "markdown": NEXT + "\nOne more line.\n", "summary": "Elsewhere."}})
    page.locator("#p-markdown").fill(NEXT + "\nMine.\n")
    page.locator("#p-summary").fill("Mine.")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("form.publish .error")).to_contain_text("Someone published a revision first")
    expect(page.locator("#p-markdown")).to_have_value(NEXT + "\nMine.\n")


def test_publish_page_refuses_members_and_is_accessible(server, contexts):
    from test_workspace import axe_violations
    mod, _ = make_module(server)
    member = contexts.page(KENYA)
    member.goto(f"/modules/{mod}/publish")
    expect(member.locator("[data-refused]")).to_be_visible()
    expect(member.locator("form.publish")).to_have_count(0)
    page = contexts.new(RAPPORTEUR, bypass_csp=True).new_page()
    page.goto(f"/modules/{mod}/publish")
    expect(page.locator("form.publish")).to_be_visible()
    problems = {"publish": axe_violations(page)}
    page.goto(f"/modules/{mod}/revisions/1/carried")
    expect(page.locator("h1")).to_contain_text("revision 1")
    problems["carried"] = axe_violations(page)
    problems = {k: v for k, v in problems.items() if v}
    assert not problems, problems
