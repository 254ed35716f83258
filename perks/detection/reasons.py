"""Plain-word reasons for a flag: named rules next to the model, and what moved the model.

Rules read the raw account (activity aggregates when an import carried them, counts always)
and flag on their own, without the model. Model reasons come from counterfactuals: a group of
related features is reset to the genuine population's median and the drop in probability says
how much that group pushed the account up. Only groups that moved the probability by at least
MIN_DROP, and whose values lie outside the genuine middle 80%, become reasons, so a small change
in the inputs does not swap one reason for another; when none qualifies, the group that moved
the probability most is named, so every flagged account has at least one reason. Phrases say
what looks automated in plain words ("follows 5,250 accounts but only 12 follow it back",
"has liked 3 posts in six years"), never a bare list of counts.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from perks.detection.features import FEATURE_NAMES, column

MIN_DROP = 0.05
REASONS_PER_ACCOUNT = 3


def _n(value: float) -> str:
    return f"{int(round(value)):,}"


def _share(value: float) -> str:
    return f"{value:.0%}"


def _get(account: Mapping[str, Any], key: str) -> float | None:
    value = account.get(key)
    return None if value is None else float(value)


def _age_days(account: Mapping[str, Any]) -> float | None:
    created, observed = account.get("created_at"), account.get("observed_at")
    if created is None or observed is None:
        return None
    return max((observed - created).total_seconds() / 86400.0, 1 / 24)


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    check: Callable[[Mapping[str, Any]], str | None]  # the reason, or None when it does not fire


def _automation(a: Mapping[str, Any]) -> str | None:
    share = _get(a, "automation_share")
    if share is not None and share >= 0.5:
        return f"{_share(share)} of posts come from automation tools"
    return None


def _auto_retweets(a: Mapping[str, Any]) -> str | None:
    share, per_day = _get(a, "retweet_share"), _get(a, "posts_per_day")
    if share is not None and share >= 0.9 and (per_day is None or per_day >= 5):
        return f"{_share(share)} of posts are retweets"
    return None


def _clockwork(a: Mapping[str, Any]) -> str | None:
    regularity = _get(a, "interval_regularity")
    if regularity is not None and regularity >= 0.9:
        return "posts at machine-regular intervals"
    return None


def _duplicates(a: Mapping[str, Any]) -> str | None:
    share = _get(a, "duplicate_text_share")
    if share is not None and share >= 0.5:
        return f"{_share(share)} of posts repeat the same text"
    return None


def _posting_flood(a: Mapping[str, Any]) -> str | None:
    per_day = _get(a, "posts_per_day")
    if per_day is None:
        age = _age_days(a)
        per_day = None if age is None or age < 7 else float(a.get("statuses_count") or 0) / age
    if per_day is not None and per_day >= 100:
        return f"posts {_n(per_day)} times a day, more than a person could write"
    return None


def _follow_back_ring(a: Mapping[str, Any]) -> str | None:
    friends, followers = a.get("friends_count") or 0, a.get("followers_count") or 0
    if min(friends, followers) >= 2000 and 0.9 <= followers / friends <= 1.1:
        return (f"follows {_n(friends)} accounts and is followed by almost exactly as many "
                f"({_n(followers)}), the mark of a follow-back ring")
    return None


def _volume_without_audience(a: Mapping[str, Any]) -> str | None:
    statuses, followers = a.get("statuses_count") or 0, a.get("followers_count") or 0
    if statuses >= 5000 and followers < 20:
        return (f"has posted {_n(statuses)} times yet "
                + ("nobody follows it" if followers == 0 else
                   f"only {_times(followers, 'account follows', 'accounts follow')} it"))
    return None


def _score_without_activity(a: Mapping[str, Any]) -> str | None:
    statuses, followers = a.get("statuses_count") or 0, a.get("followers_count") or 0
    percentile = a.get("influence_percentile")
    high = followers >= 10_000 or (percentile is not None and percentile >= 90)
    if high and statuses <= 10:
        return (f"has {_n(followers)} followers but "
                + ("has never posted" if statuses == 0 else
                   f"has posted only {_times(statuses, 'time', 'times')}")
                + ", an audience it did not earn by posting")
    return None


RULES = (
    Rule("automation_tools", "at least half the posts come from automation tools", _automation),
    Rule("auto_retweets", "at least 90% retweets at 5 or more posts a day", _auto_retweets),
    Rule("clockwork_posting", "posting-interval regularity 0.9 or more", _clockwork),
    Rule("duplicate_text", "at least half the posts repeat the same text", _duplicates),
    Rule("posting_flood", "100 or more posts a day", _posting_flood),
    Rule("follow_back_ring", "friends and followers both 2,000+ and within 10%", _follow_back_ring),
    Rule("volume_without_audience", "5,000+ posts and under 20 followers",
         _volume_without_audience),
    Rule("score_without_activity", "10,000+ followers or a top-decile score, 10 posts or fewer",
         _score_without_activity),
)


_RULES_BY_ID = {rule.id: rule for rule in RULES}


def describe_rule(rule_id: str) -> str:
    """Plain words for a rule flag id, for a page that has the id but not the reason text."""
    rule = _RULES_BY_ID.get(rule_id)
    return f"rule: {rule.description}" if rule else "flagged by a plain rule"


def _array(accounts: Sequence[Mapping[str, Any]], key: str) -> np.ndarray:
    return np.array(column(accounts, key), dtype=float)  # None becomes NaN


def _instants(accounts: Sequence[Mapping[str, Any]], key: str) -> np.ndarray:
    return np.array([np.nan if v is None else v.timestamp() for v in column(accounts, key)],
                    dtype=float)


def rule_candidates(accounts: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Vectorised screen: True where any rule may fire (a superset; NaN compares False).

    Lets a large batch skip the per-account rules; apply_rules stays the one definition.
    """
    def share(key: str, at_least: float) -> np.ndarray:
        return _array(accounts, key) >= at_least

    statuses = _array(accounts, "statuses_count")
    followers = _array(accounts, "followers_count")
    friends = _array(accounts, "friends_count")
    age_days = (_instants(accounts, "observed_at") - _instants(accounts, "created_at")) / 86400.0
    with np.errstate(divide="ignore", invalid="ignore"):
        flood = (_array(accounts, "posts_per_day") >= 100) | (
            (age_days >= 7) & (statuses / age_days >= 99))
    return (share("automation_share", 0.5) | share("retweet_share", 0.9)
            | share("interval_regularity", 0.9) | share("duplicate_text_share", 0.5) | flood
            | (np.minimum(friends, followers) >= 2000)
            | ((statuses >= 5000) & (followers < 20))
            | (((followers >= 10_000) | share("influence_percentile", 90)) & (statuses <= 10)))


def apply_rules(account: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(rule id, reason) for every rule that fires on the account."""
    fired = []
    for rule in RULES:
        reason = rule.check(account)
        if reason:
            fired.append((rule.id, reason))
    return fired


# --- model reasons ---------------------------------------------------------------------

def _index(*names: str) -> list[int]:
    return [FEATURE_NAMES.index(name) for name in names]


_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "ten")


def _span(days: float | None) -> str:
    """"in six years", "in 5 months", "in 3 days": how long the account had."""
    if days is None:
        return ""
    for unit, length in (("year", 365.25), ("month", 30.44), ("day", 1.0)):
        if days >= 2 * length or unit == "day":
            count = max(1, int(round(days / length)))
            word = _NUMBER_WORDS[count] if count <= 10 else f"{count:,}"
            return f" in {word} {unit}{'s' if count != 1 else ''}"
    return ""


def _times(count: int, singular: str, plural: str) -> str:
    return f"{_n(count)} {singular if count == 1 else plural}"


def _friends_phrase(a: Mapping[str, Any], low: bool, unusual: set[str] = frozenset()) -> str:
    friends, followers = a.get("friends_count") or 0, a.get("followers_count") or 0
    age = _age_days(a)
    if not low and friends >= 5 * max(followers, 1):
        return (f"follows {_times(friends, 'account', 'accounts')} but only "
                f"{_times(followers, 'follows', 'follow')} it back" if followers else
                f"follows {_times(friends, 'account', 'accounts')} and nobody follows it")
    if not low and followers >= 20 * max(friends, 1):
        return (f"has {_times(followers, 'follower', 'followers')} but follows "
                f"{'nobody' if friends == 0 else _n(friends)}, a pattern of bought followers")
    if followers < 10:
        return (f"nobody follows it{_span(age)}" if followers == 0 else
                f"only {_times(followers, 'account follows', 'accounts follow')} it"
                f"{_span(age)}")
    if "followers_per_hour" in unusual and age is not None and age < 730:
        return (f"gained {_times(followers, 'follower', 'followers')}{_span(age)}, faster than "
                "genuine accounts grow")
    if "friends_per_hour" in unusual and age is not None and age < 730:
        return (f"followed {_times(friends, 'account', 'accounts')}{_span(age)}, faster than "
                "genuine accounts do")
    if low:
        return (f"follows nobody{_span(age)}" if friends == 0 else
                f"follows only {_times(friends, 'account', 'accounts')}{_span(age)}")
    if "log_friends" in unusual:
        return (f"follows {_times(friends, 'account', 'accounts')}, more than 9 in 10 genuine "
                "accounts do")
    return (f"follows {_times(friends, 'account', 'accounts')} and is followed by "
            f"{_n(followers)}{_span(age)}, a balance rarely seen in genuine accounts")


def _posting_phrase(a: Mapping[str, Any], low: bool) -> str:
    statuses, age = a.get("statuses_count") or 0, _age_days(a)
    if low:
        return (f"has never posted{_span(age)}" if statuses == 0 else
                f"has posted {_times(statuses, 'time', 'times')}{_span(age)}")
    if age is None:
        return f"has posted {_times(statuses, 'time', 'times')}, far more than genuine accounts"
    rate = statuses / max(age, 1.0)
    return (f"posts {rate:,.0f} times a day on average" if rate >= 1.5 else
            f"has posted {_times(statuses, 'time', 'times')}{_span(age)}, more than most "
            "genuine accounts")


def _likes_phrase(a: Mapping[str, Any], low: bool) -> str:
    likes, age = a.get("favourites_count") or 0, _age_days(a)
    if low:
        return (f"has never liked a post{_span(age)}" if likes == 0 else
                f"has liked {_times(likes, 'post', 'posts')}{_span(age)}")
    rate = likes / max(age or 1.0, 1.0)
    return (f"likes {rate:,.0f} posts a day on average" if rate >= 1.5 else
            f"has liked {_times(likes, 'post', 'posts')}{_span(age)}, more than most genuine "
            "accounts")


def _listed_phrase(a: Mapping[str, Any], low: bool) -> str:
    listed, followers = a.get("listed_count") or 0, a.get("followers_count") or 0
    if listed == 0:
        return f"nobody has put it on a list{_span(_age_days(a))}"
    if low:
        return (f"only on {_times(listed, 'list', 'lists')} despite "
                f"{_times(followers, 'follower', 'followers')}")
    return f"on {_times(listed, 'list', 'lists')}, unusually many for an account like it"


def _profile_phrase(a: Mapping[str, Any], low: bool) -> str:
    parts = []
    if not a.get("description"):
        parts.append("has no bio")
    if a.get("default_profile_image"):
        parts.append("keeps the default profile image")
    if parts:
        return " and ".join(parts)
    length = len(a.get("description") or "")
    return (f"has a bio of just {_times(length, 'character', 'characters')}" if low
            else "has a profile that looks set up in bulk (bio, image and background)")


def _handle_phrase(a: Mapping[str, Any], low: bool) -> str:
    handle = str(a.get("screen_name") or "")
    digits = sum(ch.isdigit() for ch in handle)
    if digits >= 3:
        return f"screen name carries {_times(digits, 'digit', 'digits')}, like generated handles"
    return "screen name reads like random letters rather than a person's name"


# (feature indices reset together, phrase builder); each builder gets `low`: the account sits
# below the genuine median on the group's first feature.
REASON_GROUPS = (
    (_index("log_friends", "log_followers", "followers_friends_ratio", "friends_per_hour",
            "followers_per_hour"), _friends_phrase),
    (_index("log_statuses", "statuses_per_hour"), _posting_phrase),
    (_index("log_favourites", "favourites_per_hour"), _likes_phrase),
    (_index("log_listed", "listed_per_hour"), _listed_phrase),
    (_index("description_length", "default_profile_image", "profile_use_background_image"),
     _profile_phrase),
    (_index("screen_name_length", "screen_name_digits", "screen_name_likelihood", "name_length",
            "name_digits"), _handle_phrase),
)


def model_reasons(predict: Callable[[np.ndarray], np.ndarray], features: np.ndarray,
                  probabilities: np.ndarray, accounts: list[Mapping[str, Any]],
                  quantiles: np.ndarray) -> list[list[str]]:
    """Reasons for each row of `features`, strongest first.

    `quantiles` is (3, n_features): the genuine population's 10th, 50th and 90th percentiles.
    """
    n, k = len(features), len(REASON_GROUPS)
    if n == 0:
        return []
    low_q, median, high_q = quantiles
    trial = np.repeat(features, k, axis=0)
    for g, (columns, _) in enumerate(REASON_GROUPS):
        trial[g::k, columns] = median[columns]
    drops = probabilities[:, None] - predict(trial).reshape(n, k)
    outside = np.stack([((features[:, c] < low_q[c]) | (features[:, c] > high_q[c])).any(axis=1)
                        for c, _ in REASON_GROUPS], axis=1)
    raw = drops
    drops = np.where(outside & (drops >= MIN_DROP), drops, 0.0)
    reasons = []
    for i in range(n):
        order = [g for g in np.argsort(-drops[i], kind="stable") if drops[i, g] > 0]
        if not order:
            # Nothing stands out on its own: name what pushed the probability up most, so a
            # flagged account is never left without a reason.
            order = [int(np.argmax(raw[i]))]
        row = []
        for g in order[:REASONS_PER_ACCOUNT]:
            columns, phrase = REASON_GROUPS[g]
            first = columns[0]
            low = bool(features[i, first] < median[first])
            if phrase is _friends_phrase:
                unusual = {FEATURE_NAMES[c] for c in columns
                           if features[i, c] > high_q[c] or features[i, c] < low_q[c]}
                row.append(phrase(accounts[i], low, unusual))
            else:
                row.append(phrase(accounts[i], low))
        reasons.append(row)
    return reasons


def reason_texts(reasons: Sequence[Any]) -> list[str]:
    """Stored reasons (sentences, or dicts with a text) as the sentences to show."""
    texts = []
    for reason in reasons:
        if isinstance(reason, dict):
            texts.append(str(reason.get("text") or reason.get("reason") or reason.get("rule")
                             or next(iter(reason.values()), "")))
        else:
            texts.append(str(reason))
    return [t for t in texts if t]
