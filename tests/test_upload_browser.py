"""A 40,000-row upload through the page, in headless Chromium under `perks serve`, while a second
browser session keeps loading pages: every one answers 200 within a second and none says
"database is locked"; the progress page reaches "done" by itself with the file's counts.
"Within a second" is read as the issue puts it, waiting behind the upload: each load's time
beyond the same page's time measured without an upload in the same run."""

import time

import pytest

from perks.demo import DEMO_EMAIL, DEMO_PASSWORD
from tests.browser_support import chromium, log_in, serve_demo
from tests.test_import_store import HEADER, gen_line

pytestmark = pytest.mark.browser
ROWS, BAD = 40_000, 25
PAGES = ("/campaigns/1", "/accounts", "/accounts?q=demo", "/campaigns/", "/")  # not the new rows
LIMIT_SECONDS = 1.0  # the bound: no request waits more than a second behind an upload


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with serve_demo(tmp_path_factory.mktemp("instance"), accounts=2000) as base:
        yield base


def _pool(path):
    good = [gen_line(900_000_000 + i, f"up{i}") for i in range(ROWS - BAD)]
    bad = [f"{990_000_000 + i},bad{i},Bad,many,1,1,1,1,1,," for i in range(BAD)]
    path.write_text("\n".join((HEADER, *good, *bad)) + "\n", encoding="utf-8")
    return path


def test_an_upload_runs_while_another_session_keeps_working(served, tmp_path):
    pool = _pool(tmp_path / "big pool.csv")
    with chromium() as browser:
        uploader = browser.new_context().new_page()
        other = browser.new_context().new_page()
        log_in(uploader, served, DEMO_EMAIL, DEMO_PASSWORD)
        log_in(other, served, DEMO_EMAIL, DEMO_PASSWORD)
        floor = {}  # the same pages with no upload running: the machine's own pace
        for path in PAGES * 3:
            started = time.monotonic()
            assert other.goto(served + path).status == 200, path
            floor[path] = time.monotonic() - started  # the last round: warm
        uploader.goto(f"{served}/uploads/")
        uploader.set_input_files("input[name=file]", str(pool))
        uploader.fill("input[name=list_name]", "creators")
        uploader.click("form[enctype] button[type=submit]")
        uploader.wait_for_url("**/uploads/*")
        assert uploader.locator("[data-upload-status]").count() == 1, uploader.content()[:2000]

        loads, during = [], 0
        deadline = time.monotonic() + 300
        while uploader.locator("p.flash", has_text="Done:").count() == 0:
            assert time.monotonic() < deadline, "the upload did not finish in 300 s"
            assert uploader.locator(".flash.error").count() == 0, uploader.content()[:2000]
            running = uploader.locator("[data-upload-status]").count() == 1
            for path in PAGES:
                started = time.monotonic()
                response = other.goto(served + path)
                seconds = time.monotonic() - started
                body = other.content()
                assert response.status == 200, (path, response.status)
                assert "database is locked" not in body.lower(), path
                loads.append((seconds, path))
                during += running
        slowest = max(loads)
        print(f"\n{len(loads)} page loads beside the upload ({during} while it ran); "
              f"slowest {slowest[0] * 1000:.0f} ms ({slowest[1]}); without an upload, "
              f"slowest {max(floor.values()) * 1000:.0f} ms")
        assert during >= len(PAGES), "too few pages were loaded while the upload ran"

        # The page reloaded itself with the outcome.
        counts = dict(zip(uploader.locator("table.counts th").all_inner_texts(),
                          uploader.locator("table.counts td").all_inner_texts(), strict=True))
        assert counts["Rows read"] == f"{ROWS:,}"
        assert counts["Imported (new accounts)"] == f"{ROWS - BAD:,}"
        assert counts["Rejected"] == f"{BAD:,}"
        link = uploader.locator("a", has_text="Download the rejected rows")
        rejects = uploader.request.get(served + link.get_attribute("href"))
        assert rejects.status == 200 and len(rejects.text().splitlines()) == BAD + 1
        # Waiting behind the upload: a load's time beyond the same page's without one (on a
        # shared 2-core machine the pages alone can take over half a second).
        behind = max(seconds - floor[path] for seconds, path in loads)
        print(f"longest wait behind the upload: {behind * 1000:.0f} ms")
        assert behind < LIMIT_SECONDS, (loads, floor)
        browser.close()
