"""`perks bench --load`: a bounded loopback load run against `perks serve --workers 2`.

A demo instance is built in a temp folder, served on 127.0.0.1 only, and hit for `seconds` by
a few client threads (standard library only: one HTTP connection per request, as gunicorn's
sync workers close them anyway): the shortlist API (/api/v1, a bearer token), the CSV export
route (the stored shortlist, streamed), the campaign page, and one reviewer writing
decisions the whole time (each refreshes the brand's shortlists). Errors: any answer but 200
to a reader or a redirect to a decision, client exceptions, "database is locked" in the log.
"""

import http.client
import http.cookiejar
import os
import re
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from perks.demo import DEMO_EMAIL, DEMO_PASSWORD

HOST = "127.0.0.1"
CLIENTS = {"shortlist_api": 4, "export": 2, "page": 2}
WRITES_PER_SECOND = 10
_PROBLEMS = ("Traceback", "Error", "WORKER TIMEOUT", "locked")
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 302 after a POST is the answer; following it would be another request


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def perks_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from perks.cli import main; main()", *args]


class Client:
    """A logged-in browser: cookie jar, CSRF token, no redirects followed."""

    def __init__(self, base: str, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD):
        self.base = base
        parsed = urllib.parse.urlsplit(base)
        self.host, self.port = parsed.hostname, parsed.port
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())
        page = self.get("/login")[1]
        self.csrf = _CSRF.search(page).group(1)  # type: ignore[union-attr]
        status, _ = self.post("/login", {"email": email, "password": password})
        if status not in (302, 303):
            raise RuntimeError(f"login as {email} failed with HTTP {status}")

    def fast_get(self, path: str, token: str | None = None) -> int:
        """A GET with http.client and the login cookie on one kept-alive connection, as a
        browser does: a tenth of urllib's client-side cost, which matters when the client
        shares the machine with the server. A connection the server closed is reopened."""
        if not hasattr(self, "cookie"):
            self.cookie = "; ".join(f"{c.name}={c.value}" for c in self.jar)
            self.agent = next(value for name, value in self.opener.addheaders
                              if name == "User-agent")
            self.connection: http.client.HTTPConnection | None = None
        # The same User-Agent as the login: session protection ties the cookie to it.
        headers = ({"Authorization": f"Bearer {token}"} if token
                   else {"Cookie": self.cookie, "User-Agent": self.agent})
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.connection.request("GET", path, headers=headers)
                answer = self.connection.getresponse()
                answer.read()
                if answer.will_close:
                    self.close()
                return answer.status
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()  # kept-alive connection closed by the server meanwhile: once more
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if getattr(self, "connection", None) is not None:
            self.connection.close()
            self.connection = None

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as answer:
                return answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, ""

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))  # noqa: S310 - loopback

    def post(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        body = urllib.parse.urlencode({**form, "csrf_token": getattr(self, "csrf", "")}).encode()
        return self._open(urllib.request.Request(self.base + path, data=body))  # noqa: S310


class Tally:
    def __init__(self) -> None:
        self.times: list[float] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def run(self, call: Callable[[], int], stop: float, pace: float = 0.0,
            ok: tuple[int, ...] = (200,)) -> None:
        while time.perf_counter() < stop:
            clock = time.perf_counter()
            try:
                status = call()
                error = "" if status in ok else f"HTTP {status}"
            except Exception as exc:  # noqa: BLE001 - every failure counts as an error
                error = f"{type(exc).__name__}: {exc}"
            spent = time.perf_counter() - clock
            with self.lock:
                self.times.append(spent)
                if error:
                    self.errors.append(error)
            if pace > spent:
                time.sleep(pace - spent)

    def summary(self, seconds: float) -> dict[str, Any]:
        ordered = sorted(self.times) or [0.0]
        return {"requests": len(self.times), "per_second": round(len(self.times) / seconds, 1),
                "p50_ms": round(statistics.median(ordered) * 1000, 2),
                "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 2),
                "errors": len(self.errors), "first_errors": self.errors[:3]}


def run_load(*, accounts: int = 20_000, seconds: int = 60,
             say: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """Build a demo instance of `accounts`, serve it with 2 workers on 127.0.0.1 and load it
    for `seconds`; return per-endpoint rates, latencies and errors."""
    folder = Path(tempfile.mkdtemp(prefix="perks-load-"))
    env = {**os.environ, "PERKS_INSTANCE_PATH": str(folder), "PERKS_ENV": "production"}
    env.pop("PERKS_DATABASE_URL", None)  # always the scratch SQLite file in `folder`
    server = None
    try:
        say(f"demo instance of {accounts:,} accounts in {folder}")
        subprocess.run(perks_command("demo", "--accounts", str(accounts)), env=env, check=True,  # noqa: S603
                       capture_output=True)
        port = free_port()
        log = (folder / "server.log").open("w")
        server = subprocess.Popen(perks_command("serve", "--host", HOST, "--port", str(port),  # noqa: S603
                                         "--workers", "2"),
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://{HOST}:{port}"
        ready = wait_for(base)
        return {"serve_ready_seconds": round(ready, 2), **_load(base, folder, seconds, say,
                                                                  server.pid)}
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def wait_for(base: str, seconds: float = 120) -> float:
    """Seconds until `perks serve` answers (it loads the app and the bot model first)."""
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        try:
            urllib.request.urlopen(base + "/login", timeout=2).close()  # noqa: S310 - loopback
            return time.perf_counter() - start
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"perks serve did not answer within {seconds:.0f} s")


def _api_token(folder: Path) -> str:
    """A bearer token for the demo user, made the way `perks token create` makes one."""
    from sqlmodel import Session

    from perks.auth.tokens import create_token
    from perks.auth.users import find_user
    from perks.db import make_engine

    engine = make_engine(f"sqlite:///{folder / 'perks.db'}")
    with Session(engine) as session:
        user = find_user(session=session, email=DEMO_EMAIL)
        secret = create_token(session=session, user=user, name="load run").secret
        session.commit()
    engine.dispose()
    return secret


def _reviewable(folder: Path) -> tuple[int, list[int]]:
    with sqlite3.connect(folder / "perks.db") as db:
        campaign_id = db.execute("SELECT min(id) FROM campaign").fetchone()[0]
        ids = [r[0] for r in db.execute(
            "SELECT id FROM account WHERE bot_probability >= 0.5 ORDER BY id LIMIT 50")]
    return campaign_id, ids


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of `pid` and its children (the server's workers) so far, read
    from /proc; None where there is no /proc."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, found = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1]: parent pid
            total += int(fields[11]) + int(fields[12])  # utime, stime
            found = True
    return total / tick if found else None


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # this process: the client threads only
    return usage.ru_utime + usage.ru_stime


def _load(base: str, folder: Path, seconds: int, say: Callable[[str], None],
          server_pid: int) -> dict[str, Any]:
    campaign_id, reviewable = _reviewable(folder)
    tallies = {name: Tally() for name in (*CLIENTS, "decisions")}
    paths = {"shortlist_api": f"/api/v1/campaigns/{campaign_id}/shortlist?per_page=50",
             "export": f"/campaigns/{campaign_id}/export.csv",
             "page": f"/campaigns/{campaign_id}"}
    token = _api_token(folder)
    versions = dict.fromkeys(reviewable, 0)
    writer = Client(base)

    def decide() -> int:
        account_id = reviewable[sum(versions.values()) % len(reviewable)]
        decision = ("genuine", "automated")[versions[account_id] % 2]
        status, _ = writer.post("/review/decide", {
            "one": f"{account_id}:{decision}", f"version_{account_id}": str(versions[account_id])})
        versions[account_id] += 1
        return status

    clients = [(name, Client(base)) for name, n in CLIENTS.items() for _ in range(n)]
    say(f"loading {base} for {seconds} s: {len(clients)} readers, one reviewer")
    stop = time.perf_counter() + seconds
    def reader(client: Client, name: str) -> Callable[[], int]:
        return lambda: client.fast_get(paths[name], token if name == "shortlist_api" else None)

    threads = [threading.Thread(target=tallies[name].run, args=(reader(client, name), stop))
               for name, client in clients]
    threads.append(threading.Thread(target=tallies["decisions"].run,
                                    args=(decide, stop, 1 / WRITES_PER_SECOND, (302, 303))))
    client_before, server_before = _client_cpu(), _cpu_seconds(server_pid)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client_cpu, server_after = _client_cpu() - client_before, _cpu_seconds(server_pid)
    for _name, client in clients:
        client.close()
    server_log = (folder / "server.log").read_text(errors="replace")
    result: dict[str, Any] = {"seconds": seconds, "endpoints": {
        name: {"path": paths.get(name, "/review/decide"), **tally.summary(seconds)}
        for name, tally in tallies.items()}}
    result["database_locked"] = server_log.count("database is locked")
    result["server_problems"] = [line for line in server_log.splitlines()
                                 if any(word in line for word in _PROBLEMS)][:10]
    # Client and server share the machine's cores: what each spent, to read the rates against.
    result["cpu_seconds"] = {
        "client": round(client_cpu, 2),
        "server": (round(server_after - server_before, 2)
                   if server_after is not None and server_before is not None else None),
        "cores": os.cpu_count()}
    result["errors"] = sum(e["errors"] for e in result["endpoints"].values()) + (
        result["database_locked"])
    return result
