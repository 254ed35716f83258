"""`perks bench --load --servers 2 --database-url …`: two app servers on one PostgreSQL.

A demo instance is built in a scratch database on the server named, two `perks serve` run on
two ports (sharing only the database and the session secret, as behind a load balancer), the
readers of the one-server load run are spread over both, and one reviewer on each server
decides the same accounts in the same order, so they collide. Each reviewer loads the page
its decision redirects to, as a browser does, and counts what it was told. At the end the
database is the judge: every decision a reviewer was told was saved is there (the versions add
up), every conflict is one "lost" audit row that its loser was shown, and no campaign holds
more places than its quantity.
"""

import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from perks.bench.load import (
    CLIENTS,
    HOST,
    WRITES_PER_SECOND,
    Client,
    Tally,
    free_port,
    perks_command,
    wait_for,
)
from perks.bench.scratch import scratch_database
from perks.campaigns import allocation
from perks.db import make_engine
from perks.models import Account, Campaign, ReviewAudit, ReviewDecision, ShortlistEntry

REVIEWED = 50  # the accounts both reviewers work through, in the same order


class Reviewer:
    """Decides the shared accounts in turn with the version it last saw; after each post it
    loads the page, as a browser does, and re-reads the version ("look again") on a conflict."""

    def __init__(self, client: Client, account_ids: list[int], current: Callable[[int], int]):
        self.client, self.account_ids, self.current = client, account_ids, current
        self.seen = dict.fromkeys(account_ids, 0)
        self.saved = self.conflicts_shown = self.untold = 0
        self.turn = 0

    def decide(self) -> int:
        account_id = self.account_ids[self.turn % len(self.account_ids)]
        self.turn += 1
        decision = ("genuine", "automated")[self.seen[account_id] % 2]
        status, _ = self.client.post("/review/decide", {
            "one": f"{account_id}:{decision}",
            f"version_{account_id}": str(self.seen[account_id])})
        page = self.client.get("/review/")[1]
        if "Conflict:" in page:
            self.conflicts_shown += 1
            self.seen[account_id] = self.current(account_id)
        elif "marked" in page:
            self.saved += 1
            self.seen[account_id] += 1
        else:
            self.untold += 1  # neither saved nor told why: what this run looks for
        return status


@contextmanager
def app_servers(env: dict[str, str], folder: Path, count: int = 2) -> Iterator[list[str]]:
    """`count` `perks serve --workers 2` on free loopback ports with `env` (the shared database
    and session secret), started together so they prepare the database at once; yields their
    base URLs once all answer, stops them after. Logs: `folder`/server<N>.log."""
    servers: list[subprocess.Popen] = []
    with ExitStack() as logs:
        try:
            bases = []
            for index in range(count):
                port = free_port()
                log = logs.enter_context((folder / f"server{index}.log").open("w"))
                servers.append(subprocess.Popen(  # noqa: S603 - our own command, loopback only
                    perks_command("serve", "--host", HOST, "--port", str(port), "--workers", "2"),
                    env=env, stdout=log, stderr=subprocess.STDOUT))
                bases.append(f"http://{HOST}:{port}")
            for base in bases:
                wait_for(base)
            yield bases
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)


def run_cluster_load(*, database_url: str, accounts: int = 20_000, seconds: int = 60,
                     say: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="perks-cluster-"))
    try:
        with scratch_database(database_url) as url:
            env = {**os.environ, "PERKS_INSTANCE_PATH": str(folder), "PERKS_ENV": "production",
                   "PERKS_DATABASE_URL": url, "PERKS_SECRET_KEY": secrets.token_hex(32)}
            say(f"demo instance of {accounts:,} accounts on PostgreSQL")
            subprocess.run(perks_command("demo", "--accounts", str(accounts)), env=env,  # noqa: S603
                           check=True, capture_output=True)
            engine = make_engine(url)
            try:
                with app_servers(env, folder) as bases:
                    return _load(engine, bases, folder, seconds, say)
            finally:
                engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _api_token(engine: Any) -> str:
    """A bearer token for the demo user, made the way `perks token create` makes one."""
    from perks.auth.tokens import create_token
    from perks.auth.users import find_user
    from perks.demo import DEMO_EMAIL

    with Session(engine) as session:
        user = find_user(session=session, email=DEMO_EMAIL)
        secret = create_token(session=session, user=user, name="cluster load run").secret
        session.commit()
    return secret


def _load(engine: Any, bases: list[str], folder: Path, seconds: int,
          say: Callable[[str], None]) -> dict[str, Any]:
    with Session(engine) as session:
        campaign_id = session.execute(select(func.min(Campaign.id))).scalar_one()
        reviewed = list(session.execute(
            select(Account.id).where(Account.bot_probability >= 0.5).order_by(Account.id)
            .limit(REVIEWED)).scalars())

    def current(account_id: int) -> int:
        with Session(engine) as session:
            return session.execute(select(ReviewDecision.version).where(
                ReviewDecision.account_id == account_id)).scalar() or 0

    token = _api_token(engine)
    paths = {"shortlist_api": f"/api/v1/campaigns/{campaign_id}/shortlist?per_page=50",
             "export": f"/campaigns/{campaign_id}/export.csv",
             "page": f"/campaigns/{campaign_id}"}
    readers = [(name, Client(bases[i % 2])) for i, (name, n) in enumerate(
        (name, n) for name, n in CLIENTS.items() for _ in range(n))]
    reviewers = [Reviewer(Client(base), reviewed, current) for base in bases]
    tallies = {name: Tally() for name in (*CLIENTS, "decisions")}
    say(f"loading {' and '.join(bases)} for {seconds} s: {len(readers)} readers spread over "
        "both, one reviewer on each")
    stop = time.perf_counter() + seconds
    threads = [threading.Thread(target=tallies[name].run, args=(
        lambda c=client, n=name: c.fast_get(paths[n], token if n == "shortlist_api" else None),
        stop)) for name, client in readers]
    threads += [threading.Thread(target=tallies["decisions"].run, args=(
        reviewer.decide, stop, 2 / WRITES_PER_SECOND, (302, 303))) for reviewer in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for _name, client in readers:
        client.close()
    with Session(engine) as session:
        stored_versions = session.execute(select(func.coalesce(func.sum(
            ReviewDecision.version), 0))).scalar_one()
        lost_rows = session.execute(select(func.count()).where(
            ReviewAudit.outcome == "lost")).scalar_one()
        overbooked = session.execute(
            select(func.count()).select_from(
                select(ShortlistEntry.campaign_id).join(
                    Campaign, Campaign.id == ShortlistEntry.campaign_id)
                .where(ShortlistEntry.status.in_(allocation.HOLDS_PLACE))
                .group_by(ShortlistEntry.campaign_id, Campaign.quantity)
                .having(func.count() > Campaign.quantity).subquery())).scalar_one()
    saved = sum(r.saved for r in reviewers)
    shown = sum(r.conflicts_shown for r in reviewers)
    logs = "".join((folder / f"server{i}.log").read_text(errors="replace") for i in range(2))
    result: dict[str, Any] = {
        "servers": bases, "seconds": seconds,
        "endpoints": {name: tally.summary(seconds) for name, tally in tallies.items()},
        "decisions": {"told_saved": saved, "stored": stored_versions,
                      "lost_decisions": saved - stored_versions,
                      "conflicts_shown": shown, "conflicts_audited": lost_rows,
                      "untold": sum(r.untold for r in reviewers)},
        "campaigns_over_quantity": overbooked,
        "server_tracebacks": logs.count("Traceback")}
    result["errors"] = (sum(e["errors"] for e in result["endpoints"].values())
                        + abs(saved - stored_versions) + abs(shown - lost_rows)
                        + result["decisions"]["untold"] + overbooked
                        + result["server_tracebacks"])
    return result
