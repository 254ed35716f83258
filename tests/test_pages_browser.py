"""Every page in headless Chromium at a laptop's 1280 px and a phone's 390 px: the page never
scrolls sideways, no element is wider than the window (wide tables scroll inside their own
box), no server internals show, and the review queue gives a reason for every flagged row.
Plus the small things a marketer notices: the topic chooser, the expected shortlist size, the
why-not answer where it was asked, error pages with navigation."""

import re

import pytest

from perks.demo import DEMO_EMAIL, DEMO_PASSWORD
from perks.detection.reasons import RULES
from tests.browser_support import chromium, log_in, serve_demo

pytestmark = pytest.mark.browser
WIDTHS = (1280, 390)
PUBLIC_PAGES = ("/login", "/removal", "/nowhere")
PAGES = ("/", "/campaigns/", "/campaigns/1", "/campaigns/1?handle=nobody#why-not",
         "/campaigns/1?status=waitlist", "/campaigns/new", "/campaigns/1/edit", "/accounts",
         "/accounts?q=a", "/review/", "/review/?state=all", "/review/threshold",
         "/settings/tokens", "/settings/users", "/privacy/requests", "/nowhere")
INTERNALS = re.compile(r"Traceback|werkzeug|sqlalchemy|jinja|gunicorn|/tmp/|/home/|/root/"
                       r"|site-packages|\.py\b|users\.csv", re.IGNORECASE)
RULE_IDS = re.compile(r"\b(" + "|".join(rule.id for rule in RULES) + r")\b")

# Elements whose right edge passes the window, outside a box that scrolls on its own.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const inScrollBox = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (p.scrollWidth > p.clientWidth && /(auto|scroll)/.test(style.overflowX)) return true;
    }
    return false;
  };
  return [...document.body.querySelectorAll("*")].filter((el) => {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(el).visibility === "hidden") return false;
    return (box.right > width + 1 || box.left < -1) && !inScrollBox(el);
  }).slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${el.className} ` +
                             `${Math.round(el.getBoundingClientRect().right)}px`);
}"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """2,000 demo accounts: the demo campaign's matched pool holds flagged ones."""
    with serve_demo(tmp_path_factory.mktemp("instance"), accounts=2000) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def _check_fits(page, path: str, width: int) -> None:
    where = f"{path} at {width} px"
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{where}: the page scrolls sideways ({scroll} px wide)"
    assert page.evaluate(OVERFLOW) == [], f"{where}: wider than the window"
    text = page.locator("body").inner_text()
    assert not INTERNALS.search(text), f"{where}: shows {INTERNALS.search(text).group(0)!r}"


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_window(served, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    for path in PUBLIC_PAGES:
        page.goto(served + path)
        _check_fits(page, path, width)
    log_in(page, served, DEMO_EMAIL, DEMO_PASSWORD)
    flagged = page.evaluate(f"""fetch("{served}/review/?state=all").then(r => r.text())""")
    account = re.search(r'href="(/accounts/\d+)"', flagged).group(1)
    for path in (*PAGES, account):
        page.goto(served + path)
        _check_fits(page, path, width)
    page.goto(f"{served}/campaigns/new")
    page.click("form.campaign button[type=submit]")  # empty: the error summary shows
    page.wait_for_load_state()
    assert page.locator(".error-summary li a").count() >= 2
    _check_fits(page, "/campaigns/new with errors", width)
    context.close()


def test_the_review_queue_gives_a_reason_for_every_flagged_row(served, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, served, DEMO_EMAIL, DEMO_PASSWORD)
    page.goto(f"{served}/review/?state=all")
    rows = page.locator("table.review-queue tbody tr[data-handle]")
    assert rows.count() >= 2, "the demo pool should put flagged accounts in the queue"
    for i in range(rows.count()):
        row = rows.nth(i)
        reasons = row.locator("ul.reasons li").all_inner_texts()
        handle = row.get_attribute("data-handle")
        assert reasons and all(len(r.split()) >= 3 for r in reasons), (handle, reasons)
        cell = row.locator("td.reasons-cell").inner_text()
        assert not RULE_IDS.search(cell), (handle, cell)  # sentences, never raw rule ids
        assert row.locator("a", has_text="profile on").count() == 1
    assert page.locator(".bulk-bar button[name=bulk]").count() == 3
    assert page.locator("[accesskey=g]").count() == 1  # keyboard shortcuts kept
    page.close()


def test_topic_chooser_preview_and_why_not_anchor(served, browser):
    page = browser.new_page(viewport={"width": 390, "height": 900})
    log_in(page, served, DEMO_EMAIL, DEMO_PASSWORD)
    page.goto(f"{served}/campaigns/new")
    assert page.locator("select[name=topics]").is_hidden()  # replaced by the chooser
    search = page.locator(".chooser input[type=search]")
    search.fill("coff")
    page.locator(".chooser .options button", has_text="Coffee").first.click()
    assert page.locator(".chooser .chip").all_inner_texts() == ["Coffee ×"]
    assert page.locator("select[name=topics]").evaluate(
        "s => [...s.selectedOptions].map(o => o.value)") == ["coffee"]
    page.fill("input[name=name]", "Phone test")
    preview = page.locator("[data-preview-output]")
    preview.filter(has_text="eligible accounts").wait_for()
    assert re.search(r"\d+ of 10 perks can be offered now", preview.inner_text())

    page.goto(f"{served}/campaigns/1")
    page.fill("input[name=handle]", "nobody-at-all")
    page.click("form.search button")
    page.wait_for_load_state()
    assert page.url.endswith("#why-not")
    assert page.locator(".why-not").is_visible()
    answer_top = page.locator(".why-not").evaluate("e => e.getBoundingClientRect().top")
    assert 0 <= answer_top < 900  # the answer is on screen, not 1,000 px down

    page.locator(".bulk-bar button[value=approve]").click()  # nothing ticked
    page.wait_for_load_state()
    assert page.locator("p.flash.error").inner_text() == "Select at least one account to approve."
    page.close()


def test_logged_out_front_door_and_error_pages(served, browser):
    page = browser.new_page()
    page.goto(f"{served}/")
    assert "/login" in page.url and page.locator("p.flash").count() == 0
    assert page.locator("link[rel=icon]").count() == 1
    log_in(page, served, DEMO_EMAIL, DEMO_PASSWORD)
    answer = page.goto(f"{served}/campaigns/987654")
    assert answer.status == 404
    assert page.locator("h1").inner_text() == "Page not found"
    assert page.locator("nav a", has_text="Campaigns").count() == 1  # the layout's navigation
    assert page.locator("main a", has_text="Home").count() == 1
    page.close()
