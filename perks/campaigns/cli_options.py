"""`perks campaign create`'s options, generated from perks.campaigns.schema: one option per
schema field (`--field-name`, plus the names a field's Door adds), with its default and hint.
Click only parses the text; the store checks every limit and reports all problems at once."""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal, get_args, get_origin

import click

from perks.campaigns.schema import FIELDS, base_type, default, door, split_list


class _Date(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: Any, ctx: Any) -> date:
        if isinstance(value, date):
            return value
        try:
            return datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            self.fail(f"{value!r} is not a date like 2026-05-01", param, ctx)


def flag(name: str) -> str:
    """The option a schema field is set with, e.g. quantity -> --quantity."""
    return "--" + name.replace("_", "-")


def _option(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    info, look = FIELDS[name], door(name)
    kind, _nullable = base_type(info)
    names = [flag(name), *look.flags]
    value = None if info.is_required() else default(name)
    kwargs: dict[str, Any] = {"help": f"{info.title}: {info.description}",
                              "required": info.is_required()}
    if kind is bool:
        names = [f"{flag(name)}/{look.off_flag or '--no-' + flag(name)[2:]}"]
    elif get_origin(kind) is list:
        kwargs["metavar"] = "A,B"
        kwargs["callback"] = lambda _ctx, _param, text: split_list(text)
        value = ",".join(value) if value else None
    elif get_origin(kind) is Literal:
        kwargs["type"] = click.Choice(get_args(kind))
    elif kind is date:
        kwargs["type"] = _Date()
    else:
        kwargs["type"] = {int: click.INT, float: click.FLOAT}.get(kind, click.STRING)
    kwargs.update(default=value, show_default=value not in (None, ""))
    return click.option(*names, name, **kwargs)


def campaign_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add one option per campaign field to a click command; they arrive as keyword
    arguments named like the schema's fields, lists already split."""
    for name in reversed(list(FIELDS)):
        command = _option(name)(command)
    return command


def describe_problems(problems: dict[str, str]) -> str:
    """A CampaignError's problems, each under the option that sets it."""
    return "; ".join(f"{flag(name) if name in FIELDS else name}: {message}"
                     for name, message in problems.items())
