"""`perks score`: recompute the pool's scores, topics and bot probabilities, then summarise."""

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

from perks.cli.support import progress, with_appcontext

if TYPE_CHECKING:
    from perks.scoring.run import ScoreSummary


@click.command("score")
@click.option("--chunk-size", default=20_000, show_default=True, type=click.IntRange(100, 500_000),
              help="Accounts read and written per transaction.")
@click.option("--recalibrate", is_flag=True,
              help="Take a new percentile reference from the pool as it is now and report "
                   "how far percentiles moved (otherwise the score version's reference holds).")
@click.option("--all", "--force", "rescore_all", is_flag=True,
              help="Rescore every account, also those unchanged since their last scoring.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@with_appcontext
def score_command(chunk_size: int, recalibrate: bool, rescore_all: bool, as_json: bool) -> None:
    """Recompute influence, percentiles, topics and bot probabilities for the pool's accounts
    whose profile, score version, bot model, taxonomy or percentile reference changed since
    they were last scored (all of them with --all)."""
    from sqlalchemy import func, select

    from perks import db
    from perks.campaigns import service
    from perks.models import Account
    from perks.scoring.run import load_detector, score_pool

    engine = db.get_engine()
    db.prepare_database(engine)
    detector, bot_status = load_detector()
    with db.session_scope(engine) as session:
        total = session.execute(select(func.count()).select_from(Account)).scalar_one()
        with progress("scoring", total=total, unit=" accounts") as update:
            summary = score_pool(session, chunk_size=chunk_size, progress=update,
                                 detector=detector, recalibrate=recalibrate,
                                 rescore_all=rescore_all)
        # New scores, topics and flags change every shortlist: rebuild them (decisions kept).
        service.refresh_campaigns(session)
        session.commit()
    if detector is None:
        summary.bots = bot_status
    if as_json:
        click.echo(json.dumps(_as_dict(summary), indent=2))
        return
    for line in summary_lines(summary):
        click.echo(line)


def _as_dict(summary: "ScoreSummary") -> dict[str, Any]:
    data = asdict(summary)
    data["seconds"] = round(summary.seconds, 3)
    data["scored"] = summary.scored
    data["accounts_per_second"] = round(summary.accounts_per_second)
    data["timings"] = {stage: round(seconds, 3) for stage, seconds in summary.timings.items()}
    return data


def summary_lines(summary: "ScoreSummary") -> list[str]:
    """The human-readable summary `perks score` prints."""
    lines = [f"Scored {summary.accounts:,} accounts in {summary.seconds:.1f} s "
             f"({summary.accounts_per_second:,.0f} accounts/s), score version "
             f"{summary.score_version}"]
    if summary.skipped:
        lines.append(f"  {summary.scored:,} recomputed, {summary.skipped:,} unchanged since "
                     "their last scoring and skipped (`perks score --all` rescores them)")
    if summary.previous_versions:
        previous = ", ".join(f"{v} ({n:,})" for v, n in sorted(summary.previous_versions.items()))
        correlation = ("n/a" if summary.rank_correlation is None
                       else f"{summary.rank_correlation:.3f}")
        lines.append(f"  recalibrated from version {previous}: {summary.snapshots:,} old scores "
                     f"kept as snapshots, {summary.moved_over_10:,} moved by more than 10 "
                     f"points, rank correlation {correlation}")
    lines += _reference_lines(summary.percentile_reference)
    lines.append("  confidence: " + ", ".join(
        f"{state} {count:,}" for state, count in summary.confidence.items()))
    lines.append(f"  topics: {summary.topics_inferred:,} inferred for "
                 f"{summary.accounts_with_topics:,} accounts; imported topics kept")
    if summary.taxonomy_changed:
        lines.append(f"  taxonomy changed since the last run: topics re-inferred with "
                     f"{summary.taxonomy_fingerprint}")
    if summary.bots == "scored":
        lines.append(f"  bots: {summary.bots_flagged:,} flagged (model "
                     f"{summary.bot_model_version})")
    else:
        lines.append(f"  bots: {summary.bots}; bot probabilities left as they were")
    return lines


def _reference_lines(reference: dict[str, Any] | None) -> list[str]:
    from perks.scoring.percentiles import SMALL_REFERENCE

    if reference is None:
        return ["  percentiles: none (empty pool)"]
    size = f"{reference['reference_accounts']:,} accounts, {reference['reference_created_at'][:10]}"
    if reference["action"] == "kept":
        line = f"  percentiles: read against the reference of {size} (unchanged)"
    elif reference["action"] == "set":
        line = f"  percentiles: reference set from this pool ({size}); it holds until " \
               "`perks score --recalibrate`"
    else:
        line = (f"  percentiles recalibrated: new reference of {size} (was "
                f"{reference['previous_accounts']:,}); {reference['moved_over_10']:,} accounts' "
                f"percentile moved by more than 10 points, the largest by "
                f"{reference['largest_move']:.1f}")
    lines = [line]
    if reference["reference_accounts"] < SMALL_REFERENCE and reference["action"] != "recalibrated":
        lines.append("  note: a reference of fewer than "
                     f"{SMALL_REFERENCE:,} accounts is coarse; run `perks score --recalibrate` "
                     "once the pool is imported")
    return lines


COMMANDS = [score_command]
