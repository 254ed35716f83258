"""End to end in headless Chromium: `perks demo`, `perks serve`, log in, browse accounts."""

import pytest

from perks.demo import DEMO_EMAIL, DEMO_PASSWORD
from tests.browser_support import chromium, serve_demo

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The demo data (300 accounts) served by gunicorn on a free loopback port."""
    with serve_demo(tmp_path_factory.mktemp("instance"), accounts=300) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def test_demo_user_logs_in_and_sees_the_accounts_page(served, browser):
    page = browser.new_page()
    page.goto(f"{served}/accounts")
    assert "/login" in page.url  # the login wall comes first
    page.fill("input[name=email]", DEMO_EMAIL)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/accounts")
    assert page.locator("h1").inner_text() == "Accounts"
    assert "300 accounts" in page.locator("p.count").inner_text()
    assert page.locator("table.accounts tbody tr").count() == 50
    page.fill("input[name=q]", page.locator("table.accounts tbody tr a").first.inner_text())
    page.click("form.search button")
    page.locator("table.accounts tbody tr a").first.click()
    assert page.locator("h2", has_text="Topics").is_visible()
    page.close()
