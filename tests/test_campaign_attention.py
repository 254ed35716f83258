"""Approved entries that stop qualifying are named with the reason (perks.campaigns.attention)."""

from sqlalchemy import update
from sqlmodel import Session

from perks.auth.users import get_or_create_brand
from perks.campaigns.attention import needs_attention
from perks.importing import import_records
from perks.models import Account, Campaign, ShortlistEntry


def gen_approved(session: Session, handles: list[str]) -> tuple[Campaign, dict[str, int]]:
    rows = [{"id": i, "screen_name": h, "followers_count": 1000, "friends_count": 1,
             "statuses_count": 1, "topics": {"coffee": 0.9}}
            for i, h in enumerate(handles, start=1)]
    import_records(session, enumerate(rows, 1), source_name="t")
    brand = get_or_create_brand(session=session, name="Brand A")
    campaign = Campaign(brand_id=brand.id, name="c", topics=["coffee"], score_min=30,
                        score_max=95, bot_strictness="0.5")
    session.add(campaign)
    session.flush()
    ids = {a.screen_name: a.id for a in session.exec(
        Account.__table__.select()).all()}
    session.execute(update(Account).values(influence_percentile=60.0, influence_score=40.0,
                                           bot_probability=0.1))
    for account_id in ids.values():
        session.add(ShortlistEntry(campaign_id=campaign.id, account_id=account_id,
                                   status="approved", rank=1))
    session.commit()
    return campaign, ids


def test_each_way_of_no_longer_qualifying_is_named(session):
    campaign, ids = gen_approved(session, ["fine", "jumped", "flagged", "withdrew", "ruled"])
    changes = {"jumped": {"influence_percentile": 98.2}, "flagged": {"bot_probability": 0.93},
               "withdrew": {"consent": "opted_out"}, "ruled": {"bot_flags": ["follow_back"]}}
    for handle, values in changes.items():
        session.execute(update(Account).where(Account.id == ids[handle]).values(**values))
    session.commit()
    found = needs_attention(session, campaign)
    assert set(found) == {ids[h] for h in changes}
    # The campaign rules' own words (perks.campaigns.rules), as why-not gives them.
    assert found[ids["jumped"]] == "percentile 98.2, campaign needs 30–95"
    assert found[ids["flagged"]].startswith("bot probability 0.93, campaign allows < 0.50")
    assert found[ids["withdrew"]] == "opted out: perks never shortlists people who said no"
    assert found[ids["ruled"]].startswith("flagged by a rule")


def test_perks_shortlist_lists_entries_that_need_attention(app, runner):
    import json

    with Session(app.extensions["perks_engine"], expire_on_commit=False) as session:
        campaign, ids = gen_approved(session, ["fine", "withdrew"])
        session.execute(update(Account).where(Account.id == ids["withdrew"])
                        .values(consent="opted_out"))
        session.commit()
    result = runner.invoke(args=["shortlist", campaign.name, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["needs_attention"] == [
        {"handle": "withdrew", "reason": "opted out: perks never shortlists people who said no"}]


def test_the_export_and_the_campaign_page_show_entries_that_need_attention(app, client, auth):
    from perks.campaigns import service

    with Session(app.extensions["perks_engine"], expire_on_commit=False) as session:
        campaign, ids = gen_approved(session, ["fine", "withdrew"])
        session.execute(update(Account).where(Account.id == ids["withdrew"])
                        .values(influence_percentile=98.0))
        session.commit()
        text = "".join(service.export(session, campaign).chunks)
    assert "approved, needs attention: percentile 98, campaign needs 30–95" in text
    auth.login()
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "needs attention:" in page and "percentile 98, campaign needs 30–95" in page
