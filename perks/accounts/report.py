"""`perks account HANDLE` for people: every field of the `--json` summary, grouped and labelled.

The summary comes from perks.profiles.account_summary; this module only lays it out as text.
"""

from typing import Any

ACTIVITY = (("posts_per_day", "posts a day", "{:.2f}"), ("retweet_share", "retweets", "{:.0%}"),
            ("reply_share", "replies", "{:.0%}"), ("url_share", "with links", "{:.0%}"),
            ("automation_share", "from automation tools", "{:.0%}"),
            ("distinct_sources", "posting apps", "{:,}"),
            ("interval_regularity", "interval regularity", "{:.2f}"),
            ("duplicate_text_share", "repeated text", "{:.0%}"))
FLAGS = (("verified", "verified"), ("protected", "protected"),
         ("default_profile", "default profile"), ("default_profile_image", "default image"),
         ("geo_enabled", "location sharing"))


def _text(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def _yes(value: Any) -> str:
    return "not recorded" if value is None else ("yes" if value else "no")


def _number(value: Any, pattern: str) -> str:
    return "—" if value is None else pattern.format(value)


def _when(value: Any) -> str:
    text = _text(value)
    return text[:16].replace("T", " ") if text != "—" else text


def account_lines(summary: dict[str, Any]) -> list[str]:
    """The summary as readable lines, section by section."""
    s = summary
    lines = [f"@{s['screen_name']} ({s.get('name') or 'no name'}) on {s['platform']}, "
             f"id {s['id']}", f"  {s.get('description') or '(no bio)'}", "", "Profile"]
    lines.append(f"  location {_text(s.get('location'))} · language {_text(s.get('lang'))} · "
                 f"url {_text(s.get('url'))} · opened {_when(s.get('created_at'))[:10]}")
    lines.append(f"  followers {_count(s['followers_count'])} · following "
                 f"{_count(s['friends_count'])} · posts {_count(s['statuses_count'])} · "
                 f"likes given {_count(s['favourites_count'])} · "
                 f"listed {_count(s['listed_count'])}")
    lines.append("  " + " · ".join(f"{label} {_yes(s.get(key))}" for key, label in FLAGS))
    lines.append(f"  observed {_when(s.get('observed_at'))} UTC, from "
                 f"{_text(s.get('source_file'))}")
    activity = [f"{label} {_number(s.get(key), pattern)}" for key, label, pattern in ACTIVITY
                if s.get(key) is not None]
    lines += ["", "Activity", "  " + (" · ".join(activity) if activity else
                                      "no timeline aggregates in the import")]
    lines += ["", "Score"] + _score_lines(s)
    lines += ["", "Bot check"] + _bot_lines(s)
    consent = s.get("consent") or {}
    lines += ["", "Consent and privacy",
              f"  consent {_text(consent.get('state')).replace('_', ' ')} · protected "
              f"{_yes(consent.get('protected'))} · birth year {_text(consent.get('birth_year'))}"
              f" · minor {_yes(consent.get('is_minor'))} · probable minor (bio) "
              f"{_yes(s.get('probable_minor'))} · person {_text(s.get('person_id'))}"]
    lines += ["", "Topics"]
    lines += [f"  {t['label']}: {t['weight']:.2f} ({t['source']}; evidence: "
              f"{', '.join(t.get('evidence') or []) or '—'})" for t in s.get("topics") or []]
    if not s.get("topics"):
        lines.append("  none yet")
    return lines


def _score_lines(s: dict[str, Any]) -> list[str]:
    score = s.get("score")
    if not score:
        return ["  not scored yet (run `perks score`)"]
    lines = [f"  influence {_number(score.get('score'), '{:.1f}')}/100 · percentile "
             f"{_number(score.get('percentile'), '{:.1f}')} · version {_text(score.get('version'))}"
             f" · confidence {_text(score.get('confidence'))} · scored {_when(s.get('scored_at'))}",
             f"  {'component':<12} {'value':>6} {'weight':>6} {'points':>6}  what it measures"]
    for c in score.get("components") or []:
        lines.append(f"  {c['label']:<12} {_number(c.get('value'), '{:.1f}'):>6} "
                     f"{c['weight']:>6.2f} {_number(c.get('contribution'), '{:.2f}'):>6}  "
                     f"{c.get('measures', '')}")
    for h in s.get("score_history") or []:
        parts = ", ".join(f"{k} {v}" for k, v in (h.get("components") or {}).items())
        until = f"replaced {_when(h['superseded_at'])}" if h.get("superseded_at") else "current"
        lines.append(f"  history: version {h['score_version']}, score "
                     f"{_number(h.get('influence_score'), '{:.1f}')}, percentile "
                     f"{_number(h.get('influence_percentile'), '{:.1f}')}, scored "
                     f"{_when(h.get('scored_at'))}, "
                     f"{until} ({parts})")
    return lines


def _bot_lines(s: dict[str, Any]) -> list[str]:
    probability = s.get("bot_probability")
    if probability is None:
        return ["  no bot probability yet (run `perks score` with the bot model installed)"]
    lines = [f"  probability of being automated or gamed {probability:.0%} "
             f"(model {_text(s.get('bot_model_version'))})"]
    for reason in s.get("bot_reasons") or []:
        text = reason.get("text") if isinstance(reason, dict) else reason
        lines.append(f"  - {text}")
    if s.get("bot_flags"):
        lines.append(f"  rules fired: {', '.join(s['bot_flags'])}")
    return lines


def _count(value: int | None) -> str:
    # A count the imported format did not carry (API v2 has no likes count) is unknown, not 0.
    return "unknown" if value is None else f"{value:,}"
