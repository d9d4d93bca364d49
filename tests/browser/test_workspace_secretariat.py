"""The secretariat runs a cycle from the pages (issue 15, item 5 in part): opens
a SEALED cycle on a revision, extends it, grants Kenya a late submission and
closes it now; Kenya's page then says the cycle is closed and that Kenya may
still submit. Runs after test_workspace.py (it leaves a closed cycle behind)."""

import re

from playwright.sync_api import expect

from conftest import FRANCE, KENYA, SECRETARIAT
from test_workspace import rev_path, wait_ready

CYCLES = """query($m: ID!) { node(id: $m) { ... on Module { reviewCycles { id title status visibility closesAt } } } }"""


def test_secretariat_opens_extends_grants_and_closes(server, contexts, demo):
    _, env = demo
    rev = env["currentRevision"]["number"]
    page = contexts.page(SECRETARIAT)
    page.on("dialog", lambda d: d.accept())
    page.goto(rev_path(env["id"], rev))
    wait_ready(page)
    page.locator("details.admin summary").click()
    page.locator("#m-title").fill("Sealed cycle opened from the page")
    page.locator("#m-visibility").select_option("SEALED")
    page.get_by_role("button", name="Open the cycle").click()
    expect(page).to_have_url(re.compile(r"\?cycle="))
    wait_ready(page)
    expect(page.locator("[data-banner=sealed]")).to_be_visible()
    cycle = next(c for c in server.api.gql(SECRETARIAT, CYCLES, {"m": env["id"]})["node"]["reviewCycles"]
                 if c["title"] == "Sealed cycle opened from the page")
    assert cycle["status"] == "OPEN" and cycle["visibility"] == "SEALED", cycle

    page.get_by_role("link", name="Consolidate the comments").click()
    expect(page.locator("#admin-h")).to_be_visible()
    page.locator("#m-closes").fill("2031-01-15T12:00")
    page.get_by_role("button", name="Extend", exact=True).click()
    expect(page.locator("#status")).to_contain_text("The deadline is now")
    after = next(c for c in server.api.gql(SECRETARIAT, CYCLES, {"m": env["id"]})["node"]["reviewCycles"] if c["id"] == cycle["id"])
    assert after["closesAt"].startswith("2031-01-15"), after

    kenya_id = page.locator("#m-org option", has_text="Kenya").first.get_attribute("value")
    page.locator("#m-org").select_option(kenya_id)
    page.locator("#m-until").fill("2031-02-01T12:00")
    page.get_by_role("button", name="Grant", exact=True).click()
    expect(page.locator("#status")).to_contain_text("Kenya")
    page.get_by_role("button", name="Close the cycle now").click()
    expect(page.locator("#status")).to_contain_text("The cycle is closed")

    kenya = contexts.page(KENYA)
    kenya.goto(rev_path(env["id"], rev, cycle["id"]))
    wait_ready(kenya)
    expect(kenya.locator("[data-banner=closed]")).to_contain_text("late submission")
    france = contexts.page(FRANCE)
    france.goto(rev_path(env["id"], rev, cycle["id"]))
    wait_ready(france)
    expect(france.locator("[data-banner=closed]")).to_contain_text("no longer be submitted")
