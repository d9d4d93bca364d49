"""A delegation that worked offline uploads its comments template from the
revision page (issue 15, item 3): a good file is imported and its numbers
shown; a file with a bad row imports nothing and shows the row and column."""

from playwright.sync_api import expect

from conftest import KENYA
from test_workspace import comments, open_cycle, rev_path, unique, wait_ready


def test_upload_a_comments_template(server, contexts, demo):
    gov, _ = demo
    cycle = open_cycle(gov)
    page = contexts.page(KENYA)
    page.goto(rev_path(gov["id"], 2, cycle["id"]))
    wait_ready(page)
    page.locator("details.import summary").click()

    bad = "MB/NC,Clause,Type of comment,Comment\nKE,2.3,te,Fine row\nFR,2.3,te,Not ours\n"
    page.locator("#i-file").set_input_files(files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}])
    page.get_by_role("button", name="Upload", exact=True).click()
    table = page.locator("table.import-errors")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr").first).to_contain_text("MB/NC")
    expect(table.locator("tbody tr").first.locator("td").first).to_have_text("3")
    assert not any(c["body"] == "Fine row" for c in comments(server, KENYA, cycle["id"]))

    body = unique("Offline comment")
    good = f"MB/NC,Clause,Type of comment,Comment\nKE,2.3,te,{body}\n"
    page.locator("#i-file").set_input_files(files=[{"name": "good.csv", "mimeType": "text/csv", "buffer": good.encode()}])
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator(".import-result")).to_contain_text("1 comment imported: No.")
    expect(page.locator("li.comment", has_text=body)).to_be_visible()
    assert any(c["body"] == body and c["state"] == "SUBMITTED" for c in comments(server, KENYA, cycle["id"]))
