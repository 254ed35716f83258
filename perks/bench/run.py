"""One benchmark run: build a pool of N in a scratch database, time each stage and its floor.

Import and score run once (they build the data); the queries and the export are repeated and
reported as medians (p50) and p95. Generation is timed apart, so neither the import nor its
floor pays for making the records.
"""

import statistics
import time
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session

from perks.auth.users import get_or_create_brand
from perks.bench import floors
from perks.bench.plans import plans_of
from perks.bench.report import Metric, Report, machine, peak_rss_mb
from perks.bench.scratch import scratch_database
from perks.bench.startup import startup_seconds
from perks.campaigns import allocation, matching, rules
from perks.campaigns.export import export_csv, export_query
from perks.campaigns.store import create_campaign
from perks.db import make_engine, prepare_database
from perks.demo import DEMO_CAMPAIGN, demo_observed_at
from perks.demo.pool import generate_accounts
from perks.detection import policy
from perks.detection.features import compute_features
from perks.importing import import_records
from perks.models import Account
from perks.scoring import load_detector, score_pool
from perks.scoring.topic_rows import topic_text
from perks.topics import TopicInferrer, load_taxonomy

SHORTLIST_SIZE = 500
ACCOUNT = Account.__table__
EXPORT_ROWS_MAX = 50_000
FLOOR_SAMPLE = 1_000_000


class TimedRecords:
    """Wraps the generator and adds up the time spent making records."""

    def __init__(self, records: Iterator[dict]):
        self.records = records
        self.seconds = 0.0

    def __iter__(self) -> "TimedRecords":
        return self

    def __next__(self) -> dict:
        clock = time.perf_counter()
        try:
            return next(self.records)
        finally:
            self.seconds += time.perf_counter() - clock


def _p(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ms(times: list[float], q: float = 0.5) -> float:
    return round(_p(times, q) * 1000, 3)


def _repeat(call: Callable[[], Any], repeats: int) -> list[float]:
    call()  # warm the cache and the statement cache: steady state is what a page sees
    times = []
    for _ in range(repeats):
        clock = time.perf_counter()
        call()
        times.append(time.perf_counter() - clock)
    return times


def run_bench(*, accounts: int = 1_000_000, database_url: str | None = None, repeats: int = 11,
              seed: int = 7, say: Callable[[str], None] = lambda _msg: None) -> Report:
    """Measure the pipeline on a synthetic pool of `accounts` in a scratch database (SQLite
    temp file by default; on the PostgreSQL server of `database_url` if given)."""
    taxonomy = [(t.slug, t.keywords) for t in load_taxonomy()]
    observed_at = demo_observed_at()
    report = Report(accounts=accounts, database="sqlite", repeats=repeats, machine=machine())

    def records() -> Iterator[dict]:
        return generate_accounts(accounts, seed=seed, topics=taxonomy, observed_at=observed_at)

    # The import floors' rates come from the first FLOOR_SAMPLE records: enough for a steady
    # rate, and a 10M run does not spend most of its time filling scratch tables.
    sample = min(accounts, FLOOR_SAMPLE)
    with scratch_database(database_url, "-floor") as url:
        engine = make_engine(url)
        prepare_database(engine)
        say(f"import floor: raw executemany of {sample:,} records")
        floor_seconds = {"executemany": floors.raw_insert(
            engine, islice(records(), sample), observed_at=observed_at) * accounts / sample}
        engine.dispose()
    if database_url and not database_url.startswith("sqlite"):  # a PostgreSQL server
        with scratch_database(database_url, "-copy") as url:
            engine = make_engine(url)
            prepare_database(engine)
            say("import floor: raw COPY")
            floor_seconds["copy"] = floors.raw_copy(
                engine, islice(records(), sample), observed_at=observed_at) * accounts / sample
            engine.dispose()
    with scratch_database(database_url) as url:
        engine = make_engine(url)
        report.database = engine.dialect.name
        prepare_database(engine)
        with Session(engine, expire_on_commit=False) as session:
            _import(session, report, records(), observed_at, floor_seconds, say)
            _score(session, report, say)
            _topics(session, report, say)
            session.execute(text("ANALYZE"))  # as a DBA would after a bulk load
            session.commit()
            _queries(session, engine, report, taxonomy, repeats, say)
            _export(session, engine, report, repeats, say)
        engine.dispose()
        _startup(url, report, repeats, say)
    report.metrics["peak_memory_mb"] = Metric(
        round(peak_rss_mb(), 1), "MB", "lower", target="≤ 1024 MB",
        met=peak_rss_mb() <= 1024, note="getrusage maxrss of the whole run")
    return report


def _import(session: Session, report: Report, records: Iterator[dict], observed_at: Any,
            floor_seconds: dict[str, float], say: Callable[[str], None]) -> None:
    say("import")
    timed = TimedRecords(records)
    clock = time.perf_counter()
    import_records(session, enumerate(timed, start=1), source_name="bench",
                   observed_at=observed_at, file_format="demo")
    total = time.perf_counter() - clock
    spent = total - timed.seconds
    n = report.accounts
    report.seconds |= {"generate": round(timed.seconds, 2), "import": round(spent, 2)}
    rate = n / spent
    # The importer writes with COPY on PostgreSQL, so COPY is its floor there.
    kind = "copy" if "copy" in floor_seconds else "executemany"
    goal = 60_000 if kind == "copy" else 100_000
    floor = n / floor_seconds[kind]
    report.metrics["import_accounts_per_s"] = Metric(
        round(rate), "accounts/s", "higher", floor=round(floor),
        floor_what=("raw psycopg COPY, one transaction" if kind == "copy"
                    else "raw DBAPI executemany, one transaction"),
        target=f"≥ {goal:,}/s and ≥ 1.2× floor", met=rate >= goal and rate >= 1.2 * floor,
        note=(f"raw executemany floor {n / floor_seconds['executemany']:,.0f}/s"
              if kind == "copy" else ""))
    report.metrics["import_peak_memory_mb"] = Metric(
        round(peak_rss_mb(), 1), "MB", "lower", target="≤ 1024 MB", met=peak_rss_mb() <= 1024,
        note="maxrss after generate + floor + import")


def _score(session: Session, report: Report, say: Callable[[str], None]) -> None:
    say("score + classify")
    detector, status = load_detector()
    clock = time.perf_counter()
    summary = score_pool(session, detector=detector)
    spent = time.perf_counter() - clock
    report.seconds["score"] = round(spent, 2)
    floor = None
    if detector is not None:
        say("score floor: bare predict_proba")
        floor_spent = 0.0
        last = done = 0
        while done < FLOOR_SAMPLE:  # the detector's own feature matrices, predict timed alone
            rows = session.execute(select(*ACCOUNT.c).where(ACCOUNT.c.id > last)
                                   .order_by(ACCOUNT.c.id).limit(20_000)).mappings().all()
            if not rows:
                break
            last, done = rows[-1]["id"], done + len(rows)
            matrix = compute_features(rows)
            floor_spent += floors.predict_seconds(detector.estimator, [matrix])
        floor = round(done / floor_spent)
    rate = report.accounts / spent
    report.metrics["score_classify_accounts_per_s"] = Metric(
        round(rate), "accounts/s", "higher", floor=floor,
        floor_what="the model's bare predict_proba on the same features", target="≥ 150,000/s",
        met=rate >= 150_000, note=f"score_pool end to end (bots {status}); stage seconds "
        + ", ".join(f"{k} {v:.1f}" for k, v in summary.timings.items()))


TOPIC_BENCH_TEXTS = 200_000  # enough for a steady rate; more only repeats the pool's texts


def _topics(session: Session, report: Report, say: Callable[[str], None]) -> None:
    """Topic inference alone on the pool's own topic texts, beside the bare automaton pass."""
    say("topic inference")
    rows = session.execute(
        select(ACCOUNT.c.description, ACCOUNT.c.post_text)
        .order_by(ACCOUNT.c.id).limit(TOPIC_BENCH_TEXTS)).all()
    texts = [topic_text(description, posts) for description, posts in rows]
    chunks = [texts[i:i + 20_000] for i in range(0, len(texts), 20_000)]
    inferrer = TopicInferrer()
    inferrer.infer(chunks[0][:100])  # warm: first-call costs are not the steady rate
    clock = time.perf_counter()
    for chunk in chunks:
        inferrer.infer(chunk)
    spent = time.perf_counter() - clock
    floor_spent = floors.automaton_seconds(inferrer, chunks)
    rate = len(texts) / spent
    report.metrics["topic_inference_texts_per_s"] = Metric(
        round(rate), "texts/s", "higher", floor=round(len(texts) / floor_spent),
        floor_what="the bare Aho-Corasick pass over the same prepared buffers",
        target="≥ 150,000/s", met=rate >= 150_000,
        note=f"{len(texts):,} bio + posts texts, mean "
             f"{sum(map(len, texts)) / max(len(texts), 1):.0f} characters, 20,000 per call")


def _campaign(session: Session, brand_id: int, name: str, **changes: Any) -> Any:
    return create_campaign(session=session, brand_id=brand_id,
                           data={**DEMO_CAMPAIGN, "name": name, **changes})


def _queries(session: Session, engine: Any, report: Report, taxonomy: list, repeats: int,
             say: Callable[[str], None]) -> None:
    brand = get_or_create_brand(session=session, name="Bench brand")
    pairs = {"popular": [s for s, _ in taxonomy[:2]], "rare": [s for s, _ in taxonomy[-2:]]}
    memory = floors.InMemory(engine)
    for kind, topics in pairs.items():
        say(f"shortlist, {kind} topics {topics}")
        campaign = _campaign(session, brand.id, f"bench {kind}", topics=topics)
        session.commit()
        threshold = policy.campaign_threshold(campaign)
        cond = matching.context(session, campaign, bot_threshold=threshold)
        times = _repeat(lambda c=campaign, t=threshold: matching.ranked_shortlist(
            session, c, bot_threshold=t, limit=SHORTLIST_SIZE), repeats)
        params = (campaign.min_topic_weight, campaign.score_min, campaign.score_max, threshold)
        naive = floors.time_naive_join(engine, cond.topic_ids, params, max(3, repeats // 3))
        numpy = _repeat(lambda c=campaign, t=threshold, i=cond.topic_ids: memory.top(
            i, c.min_topic_weight, c.score_min, c.score_max, t), repeats)
        general_query = matching.ranked_query(cond)
        general = _repeat(lambda q=general_query: session.execute(
            select(q.c.account_id).order_by(q.c.rank).limit(SHORTLIST_SIZE)).all(),
            max(3, repeats // 3))
        matches = len(session.execute(select(rules.topic_match(cond).c.account_id)).all())
        for q, label in ((0.5, "p50"), (0.95, "p95")):
            value = _ms(times, q)
            report.metrics[f"shortlist_{kind}_{label}_ms"] = Metric(
                value, "ms", "lower", floor=_ms(naive, q), floor_what="naive raw-SQL join",
                target="≤ 10 ms" if label == "p50" else "",
                met=value <= 10 if label == "p50" else None,
                note=f"{matches:,} topic matches; numpy argpartition in memory "
                     f"{_ms(numpy, q)} ms (ratio {round(value / max(_ms(numpy, q), 1e-9), 3)}); "
                     f"matching's general SQL {_ms(general, q)} ms")
        report.plans[f"shortlist_{kind}"] = plans_of(engine, lambda c=campaign, t=threshold: (
            matching.ranked_shortlist(session, c, bot_threshold=t, limit=SHORTLIST_SIZE)))
        report.metrics[f"shortlist_{kind}_vs_numpy"] = Metric(
            _ms(times), "ms", "lower", floor=_ms(numpy), floor_what="numpy argpartition in memory",
            target="≤ 0.2×", met=_ms(times) <= 0.2 * _ms(numpy))
        say(f"funnel, {kind}")
        funnel = _repeat(lambda c=campaign, t=threshold: matching.funnel(
            session, c, bot_threshold=t), repeats)
        uncached = _repeat(lambda c=campaign, t=threshold, d=cond.today: matching.count_funnel(
            session, c, bot_threshold=t, today=d), max(3, repeats // 3))
        count = floors.time_topic_count(engine, cond.topic_ids, campaign.min_topic_weight,
                                        max(3, repeats // 3))
        report.plans[f"funnel_{kind}_uncached"] = plans_of(
            engine, lambda c=campaign, t=threshold, d=cond.today: matching.count_funnel(
                session, c, bot_threshold=t, today=d))
        goal = 100 if kind == "popular" else 20
        report.metrics[f"funnel_{kind}_p50_ms"] = Metric(
            _ms(funnel), "ms", "lower", floor=_ms(count),
            floor_what="raw COUNT(DISTINCT) of the topic-matched accounts", target=f"≤ {goal} ms",
            met=_ms(funnel) <= goal,
            note=f"p95 {_ms(funnel, 0.95)} ms; as a page sees it while nothing was written "
                 "(in-process cache keyed by the data version, read on every call)")
        report.metrics[f"funnel_{kind}_uncached_p50_ms"] = Metric(
            _ms(uncached), "ms", "lower", floor=_ms(count),
            floor_what="raw COUNT(DISTINCT) of the topic-matched accounts",
            note="the first view after any write: every stage counted in one aggregate query")


def _export(session: Session, engine: Any, report: Report, repeats: int,
            say: Callable[[str], None]) -> None:
    say("export")
    brand = get_or_create_brand(session=session, name="Bench brand")
    size = max(1, min(EXPORT_ROWS_MAX, report.accounts // 20))
    campaign = _campaign(session, brand.id, "bench export", quantity=size)
    clock = time.perf_counter()
    allocation.refresh(session, campaign,
                       bot_threshold=policy.campaign_threshold(campaign))
    session.commit()
    report.seconds["allocate_export_campaign"] = round(time.perf_counter() - clock, 2)
    exported: list[str] = []

    def run() -> None:
        exported[:] = export_csv(session, campaign, kind="analyst")

    times = _repeat(run, max(3, min(repeats, 5)))
    rows = sum(chunk.count("\r\n") for chunk in exported) - 1
    # The floor: the same rows read by the export's own SELECT on a raw cursor, then csv.writer.
    sql = str(export_query(campaign, "analyst").compile(
        engine, compile_kwargs={"literal_binds": True}))
    floor_rows, floor_times = floors.time_read_and_write_csv(engine, sql, max(3, min(repeats, 5)))
    floor = floor_rows / statistics.median(floor_times)
    value = rows / statistics.median(times)
    report.metrics["export_rows_per_s"] = Metric(
        round(value), "rows/s", "higher", floor=round(floor),
        floor_what="the export's SELECT on a raw DBAPI cursor, then bare csv.writer",
        target="≥ 0.8× floor", met=value >= 0.8 * floor,
        note=f"{rows:,} rows, analyst kind (topics, decisions, needs-attention, escaping)")


def _startup(url: str, report: Report, repeats: int, say: Callable[[str], None]) -> None:
    say("start-up: perks --help, perks campaign list, bare import flask")
    timed = startup_seconds(url, runs=max(3, min(repeats, 7)))
    floor = round(timed["import_flask"], 3)
    for name, key, target in (("cli_help_s", "help", 0.3),
                              ("cli_campaign_list_s", "campaign_list", 0.6)):
        value = round(timed[key], 3)
        report.metrics[name] = Metric(
            value, "s", "lower", floor=floor, floor_what="bare python -c 'import flask'",
            target=f"≤ {target} s", met=value <= target,
            note=f"median of subprocess runs of {timed['entry_point']}")
