"""The command line, through Flask's CLI runner (perks.cli.setup)."""

import json

from sqlalchemy import func, select
from sqlmodel import Session

from perks.auth.users import authenticate
from perks.demo import DEMO_EMAIL, DEMO_PASSWORD
from perks.models import Account, Brand, Person, User


def gen_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD_CSV = ("id,screen_name,followers_count,friends_count,statuses_count,favourites_count,"
            "listed_count,description\n1,ana,10,1,1,1,1,coffee roaster and barista\n"
            "2,bo,-1,1,1,1,1,\n")


def count(app, model):
    with Session(app.extensions["perks_engine"]) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_import_prints_counts_and_names_the_rejects_file(runner, tmp_path):
    path = gen_file(tmp_path, "pool.csv", GOOD_CSV)
    result = runner.invoke(args=["import", str(path), "--observed-at", "2020-01-01"])
    assert result.exit_code == 0, result.output
    assert "1 imported, 0 updated, 0 unchanged, 1 rejected" in result.output
    assert "pool.csv.rejects.csv" in result.output


def test_import_json_output_for_scripts(runner, tmp_path):
    path = gen_file(tmp_path, "pool.csv", GOOD_CSV)
    result = runner.invoke(args=["import", str(path), "--json"])
    report = json.loads(result.stdout)
    assert report["files"][0]["imported"] == 1 and report["files"][0]["rejected"] == 1
    assert "no observation time" in result.stderr


def test_unreadable_file_fails_with_a_clear_error_and_stores_nothing(app, runner, tmp_path):
    good = gen_file(tmp_path, "good.csv", GOOD_CSV)
    broken = gen_file(tmp_path, "broken.json", '[{"id": 1, "screen_name": "x"')
    result = runner.invoke(args=["import", str(good), str(broken)])
    assert result.exit_code == 1
    assert "broken.json" in result.stderr and "nothing from this file was stored" in result.stderr
    assert count(app, Account) == 1  # the good file still went in
    assert runner.invoke(args=["import", str(tmp_path / "missing.csv")]).exit_code == 1


def test_bad_observed_at_is_a_usage_error(runner, tmp_path):
    path = gen_file(tmp_path, "pool.csv", GOOD_CSV)
    result = runner.invoke(args=["import", str(path), "--observed-at", "soon"])
    assert result.exit_code == 2 and "--observed-at" in result.output


def test_account_command_shows_one_account(runner, tmp_path):
    runner.invoke(args=["import", str(gen_file(tmp_path, "pool.csv", GOOD_CSV))])
    result = runner.invoke(args=["account", "@ANA", "--json"])
    assert json.loads(result.stdout)["screen_name"] == "ana"
    assert "followers 10" in runner.invoke(args=["account", "ana"]).output
    missing = runner.invoke(args=["account", "nobody"])
    assert missing.exit_code == 1 and "no account" in missing.stderr


def test_user_create_takes_the_password_from_the_environment(app, runner, monkeypatch):
    monkeypatch.setenv("PERKS_PASSWORD", "a long enough password")
    result = runner.invoke(args=["user", "create", "Eve@Brand-B.example", "--brand", "Brand B",
                                 "--role", "reviewer", "--json"])
    assert json.loads(result.stdout) == {"email": "eve@brand-b.example", "brand": "Brand B",
                                         "role": "reviewer"}
    again = runner.invoke(args=["user", "create", "eve@brand-b.example", "--brand", "Brand B"])
    assert again.exit_code == 1 and "already has an account" in again.stderr
    monkeypatch.setenv("PERKS_PASSWORD", "short")
    weak = runner.invoke(args=["user", "create", "x@b.example", "--brand", "Brand B"])
    assert weak.exit_code == 1 and "at least" in weak.stderr


def test_demo_twice_duplicates_nothing(app, runner):
    first = runner.invoke(args=["demo", "--accounts", "300", "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["accounts"]["imported"] == 300
    counts = [count(app, model) for model in (Account, Brand, User, Person)]
    second = runner.invoke(args=["demo", "--accounts", "300", "--json"])
    assert json.loads(second.stdout)["accounts"] == {"imported": 0, "updated": 300}
    assert [count(app, model) for model in (Account, Brand, User, Person)] == counts
    assert counts[0] == 300 and counts[2] == 1
    with Session(app.extensions["perks_engine"]) as session:
        assert authenticate(session=session, email=DEMO_EMAIL, password=DEMO_PASSWORD)
