"""`perks topics`: the taxonomy in force, where it comes from, whether stored topics match it."""

from typing import Any

import click

from perks.cli.support import echo_json, json_option, prepared_session, with_appcontext


@click.command("topics")
@json_option
@with_appcontext
def topics_command(as_json: bool) -> None:
    """List the taxonomy's topics: slug, label and keyword count."""
    from perks.topics.taxonomy import current_taxonomy, fingerprint, taxonomy_settings

    try:
        custom, mode = taxonomy_settings()
        taxonomy = current_taxonomy()
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    with prepared_session() as session:
        report = _report(session, taxonomy, custom, mode, fingerprint(taxonomy))
    if as_json:
        echo_json(report)
        return
    source = ("bundled data/taxonomy.json" if custom is None
              else f"{custom} ({mode} the bundled taxonomy)")
    click.echo(f"{len(taxonomy)} topics, {report['keywords']:,} keywords, from {source}; "
               f"fingerprint {report['fingerprint']}")
    if report["stored_fingerprint"] is None:
        click.echo("  no topics inferred yet: run `perks score`")
    elif not report["topics_current"]:
        click.echo(f"  stored topics were inferred with taxonomy {report['stored_fingerprint']}: "
                   "run `perks score` to re-infer them")
    width = max(len(t["slug"]) for t in report["topics"])
    for topic in report["topics"]:
        languages = ", ".join(f"{lang} {n}" for lang, n in topic["languages"].items())
        click.echo(f"{topic['slug']:<{width}}  {topic['keywords']:>4}  {topic['label']}"
                   f"  ({languages})")
    for campaign in report["campaigns_with_missing_topics"]:
        click.echo(f"campaign {campaign['id']} {campaign['name']!r} names topics no longer in "
                   f"the taxonomy: {', '.join(campaign['missing'])}")


def _report(session: Any, taxonomy: list, custom: Any, mode: str, mark: str) -> dict[str, Any]:
    from perks.campaigns.store import list_campaigns
    from perks.scoring.topic_rows import stored_taxonomy
    from perks.topics.taxonomy import missing_slugs

    state = stored_taxonomy(session)
    campaigns = list_campaigns(session=session, brand_id=None)
    gone = missing_slugs({c.id: c.topics for c in campaigns}, taxonomy)
    return {
        "source": "bundled" if custom is None else str(custom),
        "mode": mode,
        "fingerprint": mark,
        "stored_fingerprint": state.fingerprint if state else None,
        "topics_current": (state.fingerprint == mark) if state else None,
        "keywords": sum(len(t.keywords) for t in taxonomy),
        "topics": [{"slug": t.slug, "label": t.label, "keywords": len(t.keywords),
                    "languages": dict(t.languages)} for t in taxonomy],
        "campaigns_with_missing_topics": [{"id": c.id, "name": c.name, "missing": gone[c.id]}
                                          for c in campaigns if c.id in gone],
    }


COMMANDS = [topics_command]
