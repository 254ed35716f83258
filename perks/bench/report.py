"""The benchmark's report: one Metric per measured figure, with its floor and the ratio."""

import os
import platform
import resource
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Metric:
    """A measured value beside its floor (what the hardware does with the bare tool).

    `ratio` is value / floor. For a rate ("higher" is better) 1.0 means as fast as the floor;
    for a latency ("lower" is better) 1.0 means as quick as the floor, 0.05 twenty times quicker.
    """

    value: float
    unit: str
    better: str  # "higher" or "lower"
    floor: float | None = None
    floor_what: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.floor and self.ratio is None:
            self.ratio = float(f"{self.value / self.floor:.3g}")


@dataclass
class Report:
    accounts: int
    database: str
    repeats: int
    machine: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage
    # The database's plan of each SELECT behind a query figure (perks.bench.plans), by figure.
    plans: dict[str, list[list[str]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [f"perks bench: {self.accounts:,} accounts on {self.database}, "
               f"medians over {self.repeats} repeats ({self.machine.get('cpus')} CPUs)"]
        for name, m in self.metrics.items():
            floor = (f"  floor {_num(m.floor)} ({m.floor_what})  ratio {m.ratio}"
                     if m.floor is not None else "")
            target = f"  target {m.target}: {'met' if m.met else 'MISSED'}" if m.target else ""
            out.append(f"{name:<34} {_num(m.value):>12} {m.unit:<10}{floor}{target}")
            if m.note:
                out.append(f"{'':<36}{m.note}")
        out.append("stage seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in self.seconds.items()))
        if self.plans:
            out.append(f"query plans of {', '.join(self.plans)}: in the --json report")
        return out


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def machine() -> dict[str, Any]:
    import sqlite3

    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "platform": platform.platform()}


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
