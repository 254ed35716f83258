"""`perks account HANDLE` prints what `--json` has, readably (perks.accounts.report), and
`perks --version` names perks' own version."""

import json
import subprocess
from importlib.metadata import version

from sqlalchemy import select
from sqlmodel import Session

from perks.models import Account
from tests.browser_support import perks_command


def _flagged_handle(app) -> str:
    with Session(app.extensions["perks_engine"]) as session:
        return session.execute(
            select(Account.screen_name).where(Account.bot_probability.is_not(None))
            .order_by(Account.bot_probability.desc()).limit(1)).scalar_one()


def test_account_text_has_everything_the_json_has(app, runner):
    assert runner.invoke(args=["demo", "--accounts", "300"]).exit_code == 0
    handle = _flagged_handle(app)
    data = json.loads(runner.invoke(args=["account", handle, "--json"]).stdout)
    result = runner.invoke(args=["account", handle])
    assert result.exit_code == 0, result.output
    text = result.output
    for section in ("Profile", "Activity", "Score", "Bot check", "Consent and privacy",
                    "Topics"):
        assert f"\n{section}\n" in text
    assert f"@{data['screen_name']}" in text and f"id {data['id']}" in text
    for component in data["score"]["components"]:
        assert component["label"] in text and component["measures"] in text
    assert f"{data['bot_probability']:.0%}" in text and data["bot_model_version"] in text
    for reason in data["bot_reasons"]:
        assert f"- {reason}" in text
    assert len([line for line in text.splitlines() if "history: version" in line]) == len(
        data["score_history"])
    assert f"consent {data['consent']['state'].replace('_', ' ')}" in text
    for topic in data["topics"]:
        assert f"{topic['label']}: {topic['weight']:.2f}" in text
    assert f"followers {data['followers_count']:,}" in text
    assert f"likes given {data['favourites_count']:,}" in text
    if data["posts_per_day"] is not None:
        assert f"posts a day {data['posts_per_day']:.2f}" in text


def test_version_is_perks_own():
    result = subprocess.run(perks_command("--version"), capture_output=True, text=True,
                            check=True, timeout=120)
    assert result.stdout.strip() == f"perks {version('perks')}"
    assert "Flask" not in result.stdout
