"""The review journey in headless Chromium on the demo data: log in, open the queue, decide two
accounts, see the campaign's shortlist change, see the audit entry on the account page."""

import re

import pytest

from perks.demo import DEMO_CAMPAIGN, DEMO_EMAIL, DEMO_PASSWORD
from tests.browser_support import chromium, serve_demo

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """2,000 demo accounts: enough that the demo campaign's matched pool holds flagged ones."""
    with serve_demo(tmp_path_factory.mktemp("instance"), accounts=2000) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def _why_not(page, base, campaign_url, handle) -> str:
    page.goto(f"{base}{campaign_url}?handle={handle}")
    return page.locator(".why-not").inner_text()


def test_reviewer_clears_two_accounts_and_the_shortlist_changes(served, browser):
    page = browser.new_page()
    page.goto(f"{served}/review/")
    assert "/login" in page.url
    page.fill("input[name=email]", DEMO_EMAIL)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{served}/review/")
    assert page.locator("h1").inner_text() == "Review queue"
    rows = page.locator("table.review-queue tbody tr[data-handle]")
    assert rows.count() >= 2, "the demo pool should put flagged accounts in the queue"
    first, second = (rows.nth(i).get_attribute("data-handle") for i in (0, 1))
    campaign_url = rows.nth(0).locator("td a", has_text=DEMO_CAMPAIGN["name"]).first \
        .get_attribute("href")
    page.goto(f"{served}/review/")
    before = {h: _why_not(page, served, campaign_url, h) for h in (first, second)}
    assert all("Flagged, not cleared" in text for text in before.values()), before

    page.goto(f"{served}/review/")
    page.fill("input[name=note]", "checked the website")
    page.locator(f"tr[data-handle='{first}'] button[value$=':genuine']").click()
    assert "1 marked “genuine”" in page.locator("p.flash").first.inner_text()
    # The second one from the keyboard: tick the row with Space, then the bulk button.
    page.locator(f"tr[data-handle='{second}'] input[type=checkbox]").focus()
    page.keyboard.press("Space")
    page.locator("button[name=bulk][value=genuine]").focus()
    with page.expect_navigation():  # else the old page's flash can answer the check below
        page.keyboard.press("Enter")
    assert "1 marked “genuine”" in page.locator("p.flash").first.inner_text()
    assert page.locator(f"tr[data-handle='{first}']").count() == 0  # left the pending queue

    for handle in (first, second):
        after = _why_not(page, served, campaign_url, handle)
        assert "Flagged, not cleared" not in after
        assert re.search(r"on the shortlist|wait-listed|ranks higher|Beyond the perk quantity",
                         after), after

    page.goto(f"{served}/review/?state=genuine")
    page.locator(f"tr[data-handle='{first}'] td a").first.click()
    audit = page.locator("section.review-audit")
    assert "undecided → genuine" in audit.inner_text()
    assert DEMO_EMAIL in audit.inner_text() and "checked the website" in audit.inner_text()
    page.close()
