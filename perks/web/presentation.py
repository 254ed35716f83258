"""Template helpers that turn stored values into what a page shows: profile links, rule flags in
plain words, chart geometry. Presentation only; the numbers come from the pipeline modules."""

import math
from collections.abc import Sequence
from typing import Any

from flask import Flask


def profile_link(account: Any) -> str:
    """The account's profile on its platform (or its own URL), '' when unknown."""
    from perks.campaigns.export import profile_url

    get = account.get if isinstance(account, dict) else lambda key: getattr(account, key, None)
    return profile_url(get("platform") or "twitter", get("screen_name") or "", get("url"))


def unexplained_rules(flags: Sequence[str] | None, reasons: Sequence[Any] | None) -> list[str]:
    """Sentences for rule flags when the account carries no reason text (never a raw id)."""
    if reasons or not flags:
        return []
    from perks.detection.reasons import describe_rule

    return [describe_rule(flag) for flag in flags]


def rule_options() -> list[tuple[str, str]]:
    """(rule id, what it checks) for every plain rule, for the review queue's reason filter."""
    from perks.detection.reasons import RULES

    return [(rule.id, rule.description) for rule in RULES]


def nice_ticks(top: int, count: int = 4) -> list[int]:
    """Round axis values from 0 up to at least `top` (0, 5, 10… or 0, 200, 400…)."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    return list(range(0, int(math.ceil(top / step)) * step + 1, step))


def log_ticks(top: int) -> list[int]:
    """Powers of ten from 1 up to the first one at or above `top`, for a log-scale axis."""
    ticks = [1]
    while ticks[-1] < top:
        ticks.append(ticks[-1] * 10)
    return ticks


def wants_log_scale(counts: Sequence[int]) -> bool:
    """A log scale when the non-empty bins differ so much that the small ones would vanish."""
    nonzero = [c for c in counts if c]
    return bool(nonzero) and max(nonzero) >= 20 * min(nonzero)


def bar_height(count: int, top: int, height: float, *, log: bool) -> float:
    """Pixel height of a bin of `count` on an axis from 0 (or 1, on a log scale) to `top`."""
    if count <= 0 or top <= 0:
        return 0.0
    if log:
        # log10(count + 1) keeps a single account visibly above the axis
        share = math.log10(count + 1) / math.log10(top + 1) if top > 0 else 0
    else:
        share = count / top
    return round(max(height * share, 2.0), 1)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(profile_link=profile_link, unexplained_rules=unexplained_rules)
    app.jinja_env.globals.update(rule_options=rule_options, nice_ticks=nice_ticks,
                                 log_ticks=log_ticks, wants_log_scale=wants_log_scale,
                                 bar_height=bar_height)
