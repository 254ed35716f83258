"""How long the `perks` command takes to answer: `perks --help` and `perks campaign list`.

Each runs as a subprocess of the installed `perks` console script, beside the floor: a bare
`python -c 'import flask'` on the same interpreter in the same run (every perks command that
touches data needs Flask, so nothing that uses it can start faster).
"""

import os
import shutil
import statistics
import subprocess  # noqa: S404 - fixed argument lists, no shell
import sys
import tempfile
import time
from pathlib import Path


def entry_point() -> tuple[list[str], str]:
    """The console script installed beside this interpreter (a version manager's shim on PATH
    would add its own start-up), else `perks` on PATH, else the module; and what was used."""
    beside = Path(sys.executable).with_name("perks")
    if beside.is_file():
        return [str(beside)], str(beside)
    found = shutil.which("perks")
    if found:
        return [found], found
    return [sys.executable, "-c", "from perks.cli import main; main()"], "python -c (no script)"


def _seconds(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,  # noqa: S603
                   check=True)  # warm-up: the page cache and compiled bytecode, as a user has
    times = []
    for _ in range(runs):
        clock = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL,  # noqa: S603
                       stderr=subprocess.PIPE, check=True)
        times.append(time.perf_counter() - clock)
    return times


def startup_seconds(database_url: str, runs: int = 5) -> dict[str, object]:
    """Median seconds of `perks --help`, of `perks campaign list` on `database_url` and of a
    bare `import flask`, each over `runs` runs after one warm-up."""
    perks, used = entry_point()
    with tempfile.TemporaryDirectory(prefix="perks-bench-cli-") as instance:
        env = {**os.environ, "PERKS_DATABASE_URL": database_url, "PERKS_INSTANCE_PATH": instance}
        return {
            "help": statistics.median(_seconds([*perks, "--help"], env, runs)),
            "campaign_list": statistics.median(_seconds([*perks, "campaign", "list"], env, runs)),
            "import_flask": statistics.median(
                _seconds([sys.executable, "-c", "import flask"], env, runs)),
            "entry_point": used,
        }
