"""End to end in headless Chromium: `perks demo`, `perks serve`, log in, browse accounts."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from perks.demo import DEMO_EMAIL, DEMO_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.browser

# Without these, Chromium keeps reaching for Google's hosts on a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _perks(*args):
    return [sys.executable, "-c", "from perks.cli import main; main()", *args]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The demo data served by gunicorn on a free loopback port."""
    instance = tmp_path_factory.mktemp("instance")
    env = {**os.environ, "PERKS_INSTANCE_PATH": str(instance)}
    env.pop("PERKS_DATABASE_URL", None)
    subprocess.run(_perks("demo", "--accounts", "300"), env=env, check=True,
                   capture_output=True, timeout=120)
    port = _free_port()
    server = subprocess.Popen(_perks("serve", "--port", str(port), "--workers", "1"), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("perks serve did not answer /healthz within 30 s")
            time.sleep(0.2)
    yield base
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("CI expects Debian's chromium at /usr/bin/chromium (.ci/run installs it)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


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
