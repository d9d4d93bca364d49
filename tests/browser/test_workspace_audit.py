"""The audit trail page (issue 15, item 6): the rapporteur filters it by action;
a member has no link to it and is refused by the server."""

from playwright.sync_api import expect

from conftest import KENYA, SECRETARIAT

RAPPORTEUR = "rapporteur@itu.example"


def test_audit_trail_filters_and_refuses_members(server, contexts, demo):
    page = contexts.page(RAPPORTEUR)
    page.goto("/")
    page.get_by_role("link", name="Audit trail").click()
    expect(page.locator("h1")).to_have_text("Audit trail")
    expect(page.locator("table.audit tbody tr").first).to_be_visible(timeout=15000)
    page.locator("#a-action").fill("disposition.set")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url("/audit?action=disposition.set")
    cells = page.locator("table.audit tbody tr td:nth-child(3)")
    expect(cells.first).to_have_text("disposition.set")
    assert all(t == "disposition.set" for t in cells.all_inner_texts())

    member = contexts.page(KENYA)
    member.goto("/")
    expect(member.locator("main h1")).to_be_visible()
    expect(member.get_by_role("link", name="Audit trail")).to_have_count(0)
    member.goto("/audit")
    expect(member.locator("main .error")).to_be_visible()
    expect(member.locator("table.audit tbody tr")).to_have_count(0)
