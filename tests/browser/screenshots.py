"""Screenshots of the workspace for the README (docs/screenshots/*.png).

    kitreview serve --demo --listen 127.0.0.1:8080 --database-url sqlite:/tmp/shots/kr.db &
    python3 tests/browser/screenshots.py http://127.0.0.1:8080
"""

import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).parent))
from conftest import CHROMIUM, CHROMIUM_ARGS, KENYA, PASSWORD, ROOT, SECRETARIAT, Api  # noqa: E402

OUT = ROOT / "docs/screenshots"


def main(base):
    api = Api(base)
    mods = [m for q in api.gql(SECRETARIAT, "{ questions(first: 10) { nodes { kits { modules { id reviewCycles { status } } } } } }")
            ["questions"]["nodes"] for k in q["kits"] for m in k["modules"]]
    gov = next(m["id"] for m in mods if any(c["status"] == "OPEN" for c in m["reviewCycles"]))
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def page(locale="en-US", user=KENYA, **kw):
            kw.setdefault("viewport", {"width": 1280, "height": 800})
            ctx = b.new_context(base_url=base, locale=locale, **kw)
            assert ctx.request.post("/session", data={"email": user, "password": PASSWORD}).ok
            return ctx.new_page()

        def shot(pg, name):
            pg.wait_for_timeout(300)
            pg.screenshot(path=str(OUT / f"{name}.png"))
            print(OUT / f"{name}.png", (OUT / f"{name}.png").stat().st_size, "bytes")

        en = page()
        en.goto("/")
        expect(en.locator(".module").first).to_be_visible()
        shot(en, "home")
        en.goto(f"/modules/{gov}/revisions/2")
        expect(en.locator("#panel-count")).not_to_be_empty()
        en.locator(".doc .block-paragraph .tool").nth(1).click()
        en.locator("#c-body").fill("The indicator should say which year's data it uses.")
        en.evaluate("window.scrollTo(0, 0)")
        shot(en, "revision")
        en.goto(f"/modules/{gov}/diff?from=1&to=2&view=side")
        expect(en.locator(".side").first).to_be_visible()
        shot(en, "diff")
        fr = page("fr-FR")
        fr.goto(f"/modules/{gov}/revisions/2")
        expect(fr.locator("#panel-count")).not_to_be_empty()
        shot(fr, "revision-fr")
        phone = page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True, device_scale_factor=1)
        phone.goto(f"/modules/{gov}/revisions/2")
        expect(phone.locator("#panel-count")).not_to_be_empty()
        shot(phone, "phone")
        cycle = next(c["id"] for m in api.gql(SECRETARIAT, "{ questions(first: 10) { nodes { kits { modules { reviewCycles { id status } } } } } }")
                     ["questions"]["nodes"] for k in m["kits"] for mod in k["modules"] for c in mod["reviewCycles"] if c["status"] == "OPEN")
        rap = page(user="rapporteur@itu.example", viewport={"width": 1400, "height": 900})
        rap.goto(f"/cycles/{cycle}/consolidation")
        expect(rap.locator("tbody tr[data-number]").first).to_be_visible()
        rap.locator("tbody tr[data-number]").first.locator("select.kind").select_option("ACCEPTED_IN_PRINCIPLE")
        rap.locator("tbody tr[data-number]").first.locator("textarea.rationale").fill("The glossary will settle the term.")
        shot(rap, "consolidation")
        sec = page(user=SECRETARIAT, viewport={"width": 1280, "height": 900})
        sec.goto("/admin")
        expect(sec.locator("#users-h")).to_be_visible()
        shot(sec, "people")
        b.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080")
