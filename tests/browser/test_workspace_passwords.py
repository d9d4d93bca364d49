"""A delegate who forgot their password, or locked their account with wrong
guesses, gets back in through the secretariat (issue 17, item 1).

Five wrong guesses lock the account; the secretariat sees the lock on the
people page and lifts it; later the delegate forgets the password, the
secretariat issues a temporary one (shown once), and the delegate signs in
with it in the browser, where the sign-in page asks them to choose their own.
"""

import re
import secrets

from playwright.sync_api import expect

from conftest import SECRETARIAT
from test_workspace import axe_violations
from test_workspace_people import session_status


def test_locked_and_forgotten_passwords(server, contexts):
    tag = secrets.token_hex(3)
    email = f"forgetful.{tag}@kenya.example"
    name = f"Achieng {tag}"
    first = f"first-password-{tag}"
    orgs = server.api.gql(SECRETARIAT, "{ organizations(first: 100) { nodes { id shortName } } }")
    kenya = next(o["id"] for o in orgs["organizations"]["nodes"] if o["shortName"] == "Kenya")
    server.api.gql(SECRETARIAT, "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }", {"i": {
        "email": email, "displayName": name, "organizationId": kenya, "roles": ["MEMBER"], "initialPassword": first}})

    # Five wrong guesses lock the account: even the right password waits.
    for _ in range(5):
        assert session_status(contexts, email, "wrong wrong wrong") == 401
    assert session_status(contexts, email, first) == 429

    page = contexts.page(SECRETARIAT, bypass_csp=True)
    page.on("dialog", lambda d: d.accept())
    page.goto("/admin")
    row = page.locator(f"tr[data-user='{email}']")
    expect(row).to_contain_text("Sign-in locked until")
    assert not axe_violations(page)
    row.get_by_role("button", name=f"Unlock sign-in for {name}").click()
    expect(page.locator("#status")).to_contain_text(f"{name} can sign in again now")
    expect(row).not_to_contain_text("locked")
    assert session_status(contexts, email, first) == 200

    # Forgotten: a temporary password, shown once.
    row.get_by_role("button", name=f"Reset password for {name}").click()
    notice = page.locator("#issued-password")
    expect(notice).to_be_focused()
    expect(notice).to_contain_text(name)
    temporary = page.locator("[data-temporary-password]").inner_text().strip()
    assert len(temporary) >= 12, temporary
    expect(row).to_contain_text("Temporary password until")
    assert not axe_violations(page)
    assert session_status(contexts, email, first) == 401

    # The delegate signs in with it and chooses their own.
    ctx = contexts.new(bypass_csp=True)
    me = ctx.new_page()
    me.on("pageerror", lambda e: contexts.errors.append(str(e)))
    me.goto("/sign-in")
    me.locator("#email").fill(email)
    me.locator("#password").fill(temporary)
    me.get_by_role("button", name="Sign in").click()
    expect(me.locator("#sign-in-error")).to_contain_text("temporary password")
    expect(me.locator("#new-password")).to_be_focused()
    assert not axe_violations(me)
    own = f"my-own-passphrase-{tag}"
    me.locator("#new-password").fill(own)
    me.locator("#new-password-again").fill(own + "x")
    me.get_by_role("button", name="Sign in").click()
    expect(me.locator("#sign-in-error")).to_contain_text("not the same")
    me.locator("#new-password-again").fill(own)
    me.get_by_role("button", name="Sign in").click()
    expect(me).not_to_have_url(re.compile("/sign-in"))
    expect(me.locator("header")).to_contain_text(name)

    assert session_status(contexts, email, temporary) == 401
    assert session_status(contexts, email, own) == 200
    page.reload()
    expect(page.locator(f"tr[data-user='{email}']")).not_to_contain_text("Temporary password")
    expect(page.locator("#issued-password")).to_have_count(0)
