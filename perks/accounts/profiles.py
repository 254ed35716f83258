"""What the account page and `perks account` show: profile, explained score, history, topics."""

from typing import Any

from sqlmodel import Session

from perks.accounts import account_topics
from perks.models import Account
from perks.scoring.history import score_history

PROFILE_FIELDS = (
    "platform", "screen_name", "name", "description", "location", "lang", "url", "created_at",
    "followers_count", "friends_count", "statuses_count", "favourites_count", "listed_count",
    "verified", "protected", "default_profile", "default_profile_image", "geo_enabled",
    "observed_at", "source_file",
)
ACTIVITY_AND_SCORE_FIELDS = (
    "posts_per_day", "retweet_share", "reply_share", "url_share", "automation_share",
    "distinct_sources", "interval_regularity", "duplicate_text_share",
    "influence_score", "influence_percentile", "score_components", "score_version",
    "score_confidence", "bot_probability", "bot_reasons", "bot_flags", "bot_model_version",
    "scored_at", "probable_minor",
)


def account_summary(session: Session, account: Account) -> dict[str, Any]:
    """Everything `perks account --json` and the account page show, JSON-ready."""
    summary: dict[str, Any] = {"id": account.platform_id}
    for name in PROFILE_FIELDS + ACTIVITY_AND_SCORE_FIELDS:
        value = getattr(account, name)
        summary[name] = value.isoformat() if hasattr(value, "isoformat") else value
    summary["consent"] = {"state": account.consent, "protected": account.protected,
                          "birth_year": account.birth_year, "is_minor": account.is_minor}
    summary["person_id"] = account.person_id
    # Counts the imported file did not carry are stored as 0; say so instead of showing 0.
    summary["unknown_counts"] = account.unknown_counts or []
    for name in summary["unknown_counts"]:
        summary[name] = None
    summary["score"] = _score_explained(account)
    summary["score_history"] = [
        {key: value.isoformat() if hasattr(value, "isoformat") else value
         for key, value in entry.items()}
        for entry in score_history(session, account.id)]
    summary["topics"] = account_topics(session, account.id)
    return summary


def _score_explained(account: Account) -> dict[str, Any] | None:
    """The score with each component's label, weight and contribution, as the docs define it."""
    if account.influence_score is None:
        return None
    from perks.scoring.influence import COMPONENTS  # numpy: loaded when a score is shown

    values = account.score_components or {}
    return {
        "score": account.influence_score, "percentile": account.influence_percentile,
        "version": account.score_version, "confidence": account.score_confidence,
        "components": [
            {"name": c.name, "label": c.label, "weight": c.weight, "measures": c.measures,
             "value": values.get(c.name),
             "contribution": None if values.get(c.name) is None
             else round(c.weight * values[c.name], 2)}
            for c in COMPONENTS],
    }
