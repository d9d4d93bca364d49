"""The secretariat's people page, a user's account page, kits and modules
created from the home page, the notifications page and the audit trail by
person (issue 15, items 5 and 6).

The secretariat creates an organization, a delegate and a rapporteur in it,
and a question with that rapporteur; the rapporteur signs in, creates a kit, a
module and publishes its first revision from the pages; the delegate changes
their password (their other session ends) and is then deactivated (sign-in
refused); a member is refused the people page; Kenya follows the new module,
is notified of its second revision and marks it read; the secretariat filters
the audit trail by the new rapporteur.
"""

import re
import secrets

from playwright.sync_api import expect

from conftest import KENYA, SECRETARIAT
from test_workspace import axe_violations


def sign_in(contexts, email, password):
    """A new browser context signed in with a password (not the demo's)."""
    ctx = contexts.new(bypass_csp=True)  # axe-core is injected as an inline script
    r = ctx.request.post("/session", data={"email": email, "password": password})
    assert r.status == 200, r.text()
    page = ctx.new_page()
    page.on("pageerror", lambda e: contexts.errors.append(str(e)))
    return page


def session_status(contexts, email, password):
    ctx = contexts.new()
    return ctx.request.post("/session", data={"email": email, "password": password}).status


def test_people_accounts_kits_notifications_and_audit(server, contexts):
    tag = secrets.token_hex(3)
    org_short = f"Ghana {tag}"
    delegate_email = f"delegate.{tag}@ghana.example"
    rapporteur_email = f"rapporteur.{tag}@ghana.example"
    first_password = f"first-password-{tag}"
    code = f"9{int(tag, 16) % 100:02d}-2/2"

    page = contexts.page(SECRETARIAT, bypass_csp=True)
    page.on("dialog", lambda d: d.accept())
    page.goto("/admin")
    expect(page.locator("#users-h")).to_be_visible()
    assert not axe_violations(page)

    # An organization…
    page.get_by_text("New organization", exact=True).first.click()
    page.locator("#o-name").fill(f"Republic of Ghana {tag}")
    page.locator("#o-short").fill(org_short)
    page.locator("#o-country").fill("gh")
    page.locator("#o-region").select_option("AFRICA")
    page.get_by_role("button", name="Create").first.click()
    expect(page.locator("#status")).to_contain_text(f"Organization {org_short} created")
    expect(page.locator("table.people").first).to_contain_text(org_short)

    # …two accounts in it…
    for email, name, role in [(delegate_email, f"Ama {tag}", None), (rapporteur_email, f"Kofi {tag}", "RAPPORTEUR")]:
        page.locator("#users-h ~ details summary").click()
        page.locator("#n-email").fill(email)
        page.locator("#n-name").fill(name)
        page.locator("#n-org").select_option(label=f"{org_short} — Republic of Ghana {tag}")
        if role:
            page.locator(f"input[name=new-role][value={role}]").check()
        page.locator("#n-password").fill(first_password)
        page.locator("#new-user-form").get_by_role("button", name="Create").click()
        expect(page.locator("#status")).to_contain_text(f"Account for {name} created")
        expect(page.locator(f"tr[data-user='{email}']")).to_contain_text(org_short)
    expect(page.locator(f"tr[data-user='{rapporteur_email}']")).to_contain_text("Rapporteur")

    # …and a question with that rapporteur.
    page.locator("#questions-h ~ details summary").click()
    page.locator("#q-code").fill(code)
    page.locator("#q-title").fill(f"Question of {tag}")
    page.locator("#new-question-form").get_by_role("button", name="Create").click()
    expect(page.locator("#status")).to_contain_text(f"Question {code} created")
    block = page.locator(f".question-admin[data-question='{code}']")
    block.locator("select").select_option(label=f"Kofi {tag} ({org_short})")
    block.get_by_role("button", name="Add").click()
    expect(page.locator("#status")).to_contain_text(f"now a rapporteur of {code}")
    expect(page.locator(f".question-admin[data-question='{code}'] li")).to_contain_text(f"Kofi {tag}")
    expect(page.locator(f"tr[data-user='{rapporteur_email}']")).to_contain_text(code)

    # The rapporteur creates a kit, a module and its first revision.
    rapp = sign_in(contexts, rapporteur_email, first_password)
    rapp.goto("/")
    question = rapp.locator("section.card", has_text=f"Question {code}")
    question.get_by_text("Add a kit").click()
    question.get_by_label("Title").fill(f"Kit {tag}")
    question.get_by_role("button", name="Create").click()
    expect(rapp.locator("#status")).to_contain_text(f"Kit Kit {tag} created")
    question = rapp.locator("section.card", has_text=f"Question {code}")
    question.get_by_text("Add a module").click()
    new_module = question.locator("form[id^=module-]")
    new_module.get_by_label("Title").fill(f"Module of {tag}")
    new_module.get_by_role("button", name="Create").click()
    expect(rapp).to_have_url(re.compile(r"/modules/[^/]+/publish$"))
    module_id = rapp.url.split("/modules/")[1].split("/")[0]
    rapp.locator("#p-markdown").fill(f"# Module of {tag}\n\n## 1 Scope\n\nThe first paragraph of the module.\n")
    rapp.locator("#p-summary").fill("First draft")
    rapp.get_by_role("button", name="Publish", exact=True).click()
    expect(rapp).to_have_url(re.compile(r"/revisions/1"))
    expect(rapp.locator("main")).to_contain_text("The first paragraph of the module.")

    # Kenya follows the module and hears of its second revision.
    server.api.gql(KENYA, "mutation($m: ID!) { followModule(input: { moduleId: $m }) { module { id } } }", {"m": module_id})
    rapp.goto(f"/modules/{module_id}/publish")
    rapp.locator("#p-markdown").fill(f"# Module of {tag}\n\n## 1 Scope\n\nThe first paragraph of the module, revised.\n")
    rapp.locator("#p-summary").fill("Second draft")
    rapp.get_by_role("button", name="Publish", exact=True).click()
    expect(rapp).to_have_url(re.compile(r"/revisions/2"))

    kenya = contexts.page(KENYA, bypass_csp=True)
    kenya.goto("/notifications")
    note = kenya.locator(".notes-list li", has_text=f"Module of {tag}")
    expect(note).to_have_class(re.compile("unread"))
    expect(note).to_contain_text("you follow this module")
    before = int(re.search(r"\((\d+) unread\)", kenya.locator("h1").inner_text()).group(1))
    assert before >= 1
    assert not axe_violations(kenya)
    note.get_by_role("button", name=re.compile("Mark read")).click()
    expect(kenya.locator("h1")).to_contain_text(f"({before - 1} unread)")
    expect(kenya.locator(".notes-list li.read", has_text=f"Module of {tag}")).to_be_visible()
    expected = f"{before - 1} unread notification" if before - 1 else "Notifications"
    expect(kenya.locator("#nav-notes")).to_contain_text(expected)

    # The delegate changes their password: this session stays, the other one ends.
    other = sign_in(contexts, delegate_email, first_password)
    mine = sign_in(contexts, delegate_email, first_password)
    mine.goto("/account")
    expect(mine.locator("main")).to_contain_text(org_short)
    assert not axe_violations(mine)
    mine.locator("#pw-current").fill(first_password)
    mine.locator("#pw-new").fill(f"second-password-{tag}")
    mine.locator("#pw-again").fill(f"second-password-{tag}x")
    mine.get_by_role("button", name="Change the password").click()
    expect(mine.locator("#pw-error")).to_contain_text("not the same")
    mine.locator("#pw-again").fill(f"second-password-{tag}")
    mine.get_by_role("button", name="Change the password").click()
    expect(mine.locator("#status")).to_contain_text("Your password is changed")
    mine.goto("/")
    expect(mine.locator("h1")).to_contain_text(f"Ama {tag}")
    other.goto("/")
    expect(other).to_have_url(re.compile("/sign-in"))
    assert session_status(contexts, delegate_email, first_password) == 401
    assert session_status(contexts, delegate_email, f"second-password-{tag}") == 200

    # Deactivated: no more sign-in, and the open session ends.
    page.goto("/admin")
    page.get_by_role("button", name=f"Deactivate Ama {tag}").click()
    expect(page.locator("#status")).to_contain_text(f"Ama {tag} is deactivated")
    expect(page.locator(f"tr[data-user='{delegate_email}']")).to_contain_text("Deactivated")
    assert session_status(contexts, delegate_email, f"second-password-{tag}") == 401
    mine.goto("/")
    expect(mine).to_have_url(re.compile("/sign-in"))

    # A member may not manage people.
    kenya.goto("/admin")
    expect(kenya.locator("[data-refused]")).to_contain_text("Only the secretariat")

    # The audit trail, by person: only what the new rapporteur did.
    page.goto("/audit")
    page.locator("#a-actor").select_option(label=f"Kofi {tag} ({org_short})")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"actor="))
    rows = page.locator("table.audit tbody tr")
    expect(rows.first).to_contain_text(f"Kofi {tag}")
    expect(page.locator("table.audit tbody")).to_contain_text("revision")
    names = rows.locator("td:nth-child(2)").all_inner_texts()
    assert names and all(f"Kofi {tag}" in n for n in names), names
