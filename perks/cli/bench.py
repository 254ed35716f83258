"""`perks bench`: the benchmark and the loopback load run, from the command line."""

import json
import sys

import click


@click.command("bench")
@click.option("--accounts", default=1_000_000, show_default=True,
              type=click.IntRange(100, 10_000_000), help="Size of the synthetic pool.")
@click.option("--database-url", default=None,
              help="A PostgreSQL server to bench on (a scratch database is created there and "
                   "dropped after; the URL's own database is not touched). Default: a temp "
                   "SQLite file.")
@click.option("--repeats", default=11, show_default=True, type=click.IntRange(1, 1000))
@click.option("--load", "load", is_flag=True,
              help="Instead: a loopback load run against `perks serve --workers 2`.")
@click.option("--servers", default=1, show_default=True, type=click.IntRange(1, 2),
              help="With --load: 2 runs two `perks serve` on one PostgreSQL database "
                   "(--database-url), readers and a reviewer on each.")
@click.option("--seconds", default=60, show_default=True, type=click.IntRange(1, 600),
              help="Length of the --load run.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def bench_command(accounts: int, database_url: str | None, repeats: int, load: bool,
                  servers: int, seconds: int, as_json: bool) -> None:
    """Measure import, scoring, shortlist, funnel and export at N accounts, each beside its
    floor (what the bare tool does with the same data in the same run)."""
    def say(message: str) -> None:
        click.echo(f"bench: {message}", err=True)

    if load:
        size = accounts if accounts != 1_000_000 else 20_000
        if servers == 2:
            if not database_url or database_url.startswith("sqlite"):
                raise click.UsageError("--servers 2 needs --database-url of a PostgreSQL server")
            from perks.bench.cluster import run_cluster_load

            result = run_cluster_load(database_url=database_url, accounts=size,
                                      seconds=seconds, say=say)
        else:
            from perks.bench.load import run_load

            result = run_load(accounts=size, seconds=seconds, say=say)
        click.echo(json.dumps(result, indent=2) if as_json else "\n".join(
            f"{k}: {v}" for k, v in result.items()))
        if result.get("errors"):
            sys.exit(1)
        return
    from perks.bench.run import run_bench

    report = run_bench(accounts=accounts, database_url=database_url, repeats=repeats, say=say)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo("\n".join(report.lines()))


COMMANDS = [bench_command]
