"""Shared pieces of the Playwright tests: a demo instance served by `perks serve` and Chromium.

Each test module wraps these in its own module-scoped fixtures, so each gets the pool size its
assertions need.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# Without these, Chromium keeps reaching for Google's hosts on a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def perks_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from perks.cli import main; main()", *args]


@contextmanager
def serve_demo(instance: Path, *, accounts: int) -> Iterator[str]:
    """`perks demo --accounts N` in `instance`, served by gunicorn on a free loopback port."""
    env = {**os.environ, "PERKS_INSTANCE_PATH": str(instance)}
    env.pop("PERKS_DATABASE_URL", None)
    subprocess.run(perks_command("demo", "--accounts", str(accounts)), env=env, check=True,
                   capture_output=True, timeout=300)
    port = free_port()
    server = subprocess.Popen(perks_command("serve", "--port", str(port), "--workers", "1"),
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    # Generous: on a shared 2-core machine gunicorn can take well over 30 s to boot.
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                server.wait(timeout=10)  # reaped, so no ResourceWarning leaks into later tests
                pytest.fail("perks serve did not answer /healthz within 120 s")
            time.sleep(0.2)
    try:
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium through Playwright; skipped when missing, except in CI."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("CI expects Debian's chromium at /usr/bin/chromium (.ci/run installs it)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def log_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
