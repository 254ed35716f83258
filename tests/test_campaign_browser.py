"""Both campaign journeys in headless Chromium on the demo data: create a campaign through the
form and see its funnel, charts and shortlist; approve, then download the CSV and find the
page's shortlist in it, row for row."""

import csv
import io
import re

import pytest

from perks.demo import DEMO_EMAIL, DEMO_PASSWORD
from tests.browser_support import chromium, log_in, serve_demo

pytestmark = pytest.mark.browser
QUANTITY = 12


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The demo data (1,000 accounts) served by gunicorn on a free loopback port."""
    with serve_demo(tmp_path_factory.mktemp("instance"), accounts=1000) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def _shortlist_rows(page) -> list[tuple[str, str]]:
    """(status, handle) per row of the page's shortlist table, top to bottom."""
    return [tuple(row) for row in page.locator("table.shortlist tbody tr").evaluate_all(
        "rows => rows.map(r => [r.querySelector('.tag').textContent.trim(),"
        " r.querySelector('td:nth-child(4) a').textContent.trim().replace(/^@/, '')])")]


def test_create_a_campaign_then_export_its_shortlist(served, browser):
    page = browser.new_page(accept_downloads=True)
    log_in(page, served, DEMO_EMAIL, DEMO_PASSWORD)

    # Journey 1: a brand creates a campaign through the form.
    page.goto(f"{served}/campaigns/new")
    assert page.locator("table.strictness tbody tr").count() == 3  # precision/recall shown
    page.fill("input[name=name]", "Spring fitness")
    page.fill("textarea[name=perk_description]", "A pair of running shoes")
    page.fill("input[name=quantity]", str(QUANTITY))
    for topic in ("Fitness", "Running"):  # the topic chooser: search, then pick
        page.fill(".chooser input[type=search]", topic[:4].lower())
        page.locator(".chooser .options button", has_text=topic).first.click()
    page.fill("input[name=score_min]", "30")
    page.click("form.campaign button[type=submit]")  # the header holds a log-out button too
    page.wait_for_url(re.compile(r"/campaigns/\d+$"))
    assert page.locator("h1").inner_text() == "Spring fitness"
    stages = page.locator("table.funnel tbody tr td:first-child").all_inner_texts()
    assert stages[0] == "Accounts in the pool" and stages[-1].startswith("Beyond the perk quantity")
    assert len(stages) == 8
    assert "1,000" in page.locator("table.funnel tbody tr").first.inner_text()
    assert page.locator("figure.histogram svg").count() == 2
    rows = _shortlist_rows(page)
    offered = [handle for status, handle in rows if status == "offered"]
    assert len(offered) == QUANTITY and rows[:QUANTITY] == [("offered", h) for h in offered]
    assert {status for status, _ in rows[QUANTITY:]} == {"wait list"}

    # Journey 2: approve the top two, export, and find the page's shortlist in the CSV.
    page.locator("table.shortlist tbody tr input[type=checkbox]").nth(0).check()
    page.locator("table.shortlist tbody tr input[type=checkbox]").nth(1).check()
    page.click(".bulk-bar button[value=approve]")
    page.wait_for_load_state()
    assert "2 approved" in page.locator("p.flash, .flash").first.inner_text()
    rows = _shortlist_rows(page)
    on_page = [(status, handle) for status, handle in rows if status in ("offered", "approved")]
    assert [status for status, _ in on_page[:2]] == ["approved", "approved"]
    with page.expect_download() as info:
        page.click("text=Approved accounts (CSV)")
    download = info.value
    assert re.fullmatch(r"spring-fitness_approved_\d{4}-\d\d-\d\d\.csv",
                        download.suggested_filename)
    with open(download.path(), encoding="utf-8", newline="") as handle:
        exported = list(csv.DictReader(io.StringIO(handle.read())))
    approved = [handle for status, handle in on_page if status == "approved"]
    assert [(r["status"], r["handle"]) for r in exported] == [("approved", h) for h in approved]
    assert {r["approved_by"] for r in exported} == {DEMO_EMAIL}
    with page.expect_download() as info:
        page.click("text=analyst file")
    with open(info.value.path(), encoding="utf-8", newline="") as handle:
        analyst = [r for r in csv.DictReader(io.StringIO(handle.read()))
                   if r["status"] in ("offered", "approved")]
    assert [(r["status"], r["handle"]) for r in analyst] == on_page
    assert [int(r["rank"]) for r in analyst] == list(range(1, QUANTITY + 1))
    page.close()
