"""`perks bench`: measured performance of the pipeline, each figure beside its floor.

    report = run_bench(accounts=20_000)          # a scratch SQLite file, deleted after
    report.metrics["shortlist_popular_p50_ms"]   # value, floor, ratio, target

No Flask here: the benchmark calls the same pipeline functions the CLI and the web app call.
"""

from perks.bench.report import Metric, Report
from perks.bench.run import run_bench

__all__ = ["Metric", "Report", "run_bench"]
