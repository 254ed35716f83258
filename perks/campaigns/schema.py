"""The campaign schema: every field a brand sets, once, with its type, limits, default, label
(`title`) and one-line hint (`description`), and the rules that tie fields together.

Everything else derives from `CampaignFields`: the web form (perks.campaigns.forms), the
`perks campaign create` options (perks.campaigns.cli_options), the store's validation
(perks.campaigns.store), the API's validation and its OpenAPI document (perks.web.openapi).
No other module states a campaign limit or default. No Flask, no click here.
"""

from dataclasses import dataclass
from datetime import date
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

# Detection owns the strictness vocabulary and its aliases ("standard" is "balanced").
from perks.detection.vocabulary import STRICTNESS, normalise_strictness

# PostgreSQL refuses NUL in text; refusing it here makes that a clear error, not a 500.
NO_NUL = r"^[^\x00]*$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$"
INT_MAX = 2_000_000_000  # below PostgreSQL's integer limit
TOPIC_MODES = (("any", "any of the topics"), ("all", "all of the topics"))
# What each audience holds is perks.accounts.lists.in_audience.
AUDIENCES = ("shared", "lists", "both")
AUDIENCE_CHOICES = (("shared", "The shared pool: accounts every brand can use"),
                    ("lists", "Only the lists your brand uploaded"),
                    ("both", "Both the shared pool and your brand's lists"))
SCORE_MODES = (("percentile", "percentile (survives recalibration)"), ("absolute", "score value"))
PATTERN_MEANING = {NO_NUL: "text without NUL characters",
                   LANGUAGE_PATTERN: "a language code such as en or pt-br"}


@dataclass(frozen=True)
class Door:
    """How the form and the CLI present a field; presentation only, never a rule."""

    widget: str = ""  # textarea, radio, select, topics (multi-select), codes (comma list)
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    flags: tuple[str, ...] = ()  # CLI names besides --field-name
    off_flag: str = ""  # the CLI name that turns a yes/no field off


def _text(max_length: int, *, min_length: int = 0) -> Any:
    return StringConstraints(strip_whitespace=True, min_length=min_length,
                             max_length=max_length, pattern=NO_NUL)


Slug = Annotated[str, _text(80, min_length=1)]
Language = Annotated[str, StringConstraints(max_length=20, pattern=LANGUAGE_PATTERN)]


class CampaignFields(BaseModel):
    """A campaign as a brand sets it: the form, the CLI, the API and the store share it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: Annotated[str, _text(200, min_length=1)] = Field(
        title="Name", description="What your team calls it; unique within the brand.")
    perk_description: Annotated[str, _text(2000), Door(widget="textarea", flags=("--perk",))] = (
        Field("", title="Perk", description="What an account gets, in a sentence."))
    quantity: int = Field(10, ge=1, le=100_000, title="How many perks",
                          description="The shortlist offers this many; the next wait in line.")
    perk_value: float | None = Field(None, ge=0, le=1e9, title="Value of one perk",
                                     description="Optional, for the budget.")
    audience: Annotated[Literal[AUDIENCES], Door(widget="radio", choices=AUDIENCE_CHOICES)] = (
        Field("shared", title="Choose accounts from",
              description="The shared pool, the account lists your brand uploaded, or both."))
    topics: Annotated[list[Slug], Door(widget="topics")] = Field(
        min_length=1, max_length=50, title="Topics",
        description="Taxonomy topics the accounts should be about, e.g. coffee, baking.")
    topic_mode: Annotated[Literal["any", "all"], Door(widget="radio", choices=TOPIC_MODES)] = (
        Field("any", title="Accounts need", description="Any one of the topics, or all of them."))
    min_topic_weight: float = Field(0.3, ge=0, le=1, title="Minimum topic weight",
                                    description="How much an account is about a topic, 0 to 1.")
    score_mode: Annotated[Literal["percentile", "absolute"],
                          Door(widget="radio", choices=SCORE_MODES)] = Field(
        "percentile", title="Score range as",
        description="Percentiles keep their meaning when the score is recalibrated.")
    score_min: float = Field(0.0, ge=0, le=100, title="Score from",
                             description="Lower end of the score range, 0 to 100.")
    score_max: float = Field(100.0, ge=0, le=100, title="Score up to",
                             description="Upper end of the score range, 0 to 100.")
    followers_min: int | None = Field(None, ge=0, le=INT_MAX, title="Followers from",
                                      description="Optional lower bound on followers.")
    followers_max: int | None = Field(None, ge=0, le=INT_MAX, title="Followers up to",
                                      description="Optional upper bound on followers.")
    languages: Annotated[list[Language], Door(widget="codes")] = Field(
        [], max_length=50, title="Languages",  # pydantic copies it per instance
        description="Codes separated by commas, e.g. en, it; empty for any language.")
    location_contains: Annotated[str | None, _text(100),
                                 Door(flags=("--location",))] = Field(
        None, title="Location contains", description="Optional text the location must contain.")
    bot_strictness: Annotated[str, _text(20),
                              Door(widget="select",
                                   choices=tuple((s, s.title()) for s in STRICTNESS))] = Field(
        "balanced", title="Bot strictness",
        description="How readily an account counts as automated: lenient, balanced or strict "
                    "(scripts may give a bot-probability threshold 0–1).")
    exclude_recent_days: int | None = Field(
        None, ge=1, le=3650, title="Skip accounts given a perk in the last N days",
        description="Optional; counts this brand's approvals.")
    one_per_person: Annotated[bool, Door(off_flag="--many-per-person")] = Field(
        True, title="One perk per person",
        description="Several accounts of one person get one perk, on the best-ranked account.")
    opted_in_only: Annotated[bool, Door(off_flag="--any-consent")] = Field(
        False, title="Opted-in accounts only",
        description="Leave out accounts whose consent is unknown.")
    export_bio_location: Annotated[bool, Door(off_flag="--no-bio-location")] = Field(
        False, title="Export bio and location",
        description="The CSV leaves them out unless asked.")
    starts_on: date | None = Field(None, title="Starts on",
                                   description="Optional; approvals open on this day.")
    ends_on: date | None = Field(None, title="Ends on",
                                 description="Optional; approvals close after this day.")

    @field_validator("topics", "languages", mode="before")
    @classmethod
    def _tidy_list(cls, value: Any) -> Any:
        # "Coffee " and "coffee" are one slug; blank entries are nothing.
        if isinstance(value, list):
            return [v.strip().lower() if isinstance(v, str) else v for v in value
                    if not (isinstance(v, str) and not v.strip())]
        return value

    @field_validator("location_contains", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("topics")
    @classmethod
    def _known_topics(cls, value: list[str], info: ValidationInfo) -> list[str]:
        known = (info.context or {}).get("topic_slugs")
        unknown = sorted(set(value) - set(known)) if known is not None else []
        if unknown:
            # "did you mean …" from one place; it also looks at the topics' keywords
            from perks.topics import current_taxonomy, unknown_slugs_message

            topics = [t for t in current_taxonomy() if t.slug in known] or sorted(known)
            raise PydanticCustomError("campaign", "{message}",
                                      {"message": unknown_slugs_message(unknown, topics)})
        return list(dict.fromkeys(value))

    @field_validator("bot_strictness")
    @classmethod
    def _strictness(cls, value: str) -> str:
        value = read_strictness(value)
        if value in STRICTNESS or _is_probability(value):
            return value
        raise PydanticCustomError("campaign", "must be lenient, balanced, strict or a number 0–1")

    @field_validator("score_max")
    @classmethod
    def _score_order(cls, value: float, info: ValidationInfo) -> float:
        return _not_below(value, info.data.get("score_min"))

    @field_validator("followers_max")
    @classmethod
    def _followers_order(cls, value: int | None, info: ValidationInfo) -> int | None:
        return _not_below(value, info.data.get("followers_min"))

    @field_validator("ends_on")
    @classmethod
    def _date_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        starts = info.data.get("starts_on")
        if value is not None and starts is not None and value < starts:
            raise PydanticCustomError("campaign", "ends before it starts ({starts})",
                                      {"starts": starts.isoformat()})
        return value


def read_strictness(value: str) -> str:
    """A strictness as stored or typed, in today's words ("Standard" -> "balanced")."""
    return normalise_strictness(value)


def _is_probability(text: str) -> bool:
    try:
        return 0 <= float(text) <= 1
    except ValueError:
        return False


def _not_below(value: Any, low: Any) -> Any:
    if value is not None and low is not None and value < low:
        raise PydanticCustomError("campaign", "must not be below the lower end ({low})",
                                  {"low": f"{low:g}"})
    return value


FIELDS = CampaignFields.model_fields  # name -> pydantic FieldInfo, in form order


def door(name: str) -> Door:
    """How a field is presented (its Door, or the plain default)."""
    return next((m for m in FIELDS[name].metadata if isinstance(m, Door)), Door())


def default(name: str) -> Any:
    """The field's default (a fresh list for list fields); PydanticUndefined when required."""
    return FIELDS[name].get_default(call_default_factory=True)


def limits(name: str) -> dict[str, Any]:
    """The field's numeric and length bounds, e.g. {"ge": 1, "le": 100000}."""
    out: dict[str, Any] = {}
    for meta in FIELDS[name].metadata:
        for key in ("ge", "le", "gt", "lt", "min_length", "max_length"):
            if getattr(meta, key, None) is not None:
                out[key] = getattr(meta, key)
    return out


def base_type(info: FieldInfo) -> tuple[Any, bool]:
    """(the annotation without None, whether None is allowed): int | None -> (int, True)."""
    annotation = info.annotation
    if get_origin(annotation) in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not NoneType]
        return args[0], len(args) < len(get_args(annotation))
    return annotation, False


def split_list(text: str | None) -> list[str]:
    """'en, it' -> ['en', 'it']: how the form and the CLI type a list field."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def validate_campaign(data: dict[str, Any] | str | bytes, *, topic_slugs: set[str] | None,
                      strict: bool = False) -> CampaignFields:
    """The data as a CampaignFields; JSON text is parsed too (the API: strict, so a string
    is not a number). `topic_slugs`, when given, is the taxonomy the topics must come from.
    Raises pydantic's ValidationError, with every problem at once."""
    context = {"topic_slugs": topic_slugs}
    if isinstance(data, str | bytes):
        return CampaignFields.model_validate_json(data, strict=strict, context=context)
    return CampaignFields.model_validate(data, strict=strict, context=context)


_MESSAGES = {
    "missing": "required",
    "string_too_short": "required",
    "string_too_long": "at most {max_length} characters",
    "too_short": "pick at least {min_length}",
    "too_long": "at most {max_length} items",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "greater_than": "must be more than {gt}",
    "less_than": "must be less than {lt}",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "date_type": "must be a date (YYYY-MM-DD)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "must be a date (YYYY-MM-DD)",
    "literal_error": "must be one of {expected}",
    "extra_forbidden": "unknown field",
    "json_invalid": "not valid JSON",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
}


def problems(error: ValidationError) -> dict[str, str]:
    """pydantic's error list as {field: plain message}; several problems of one field are
    joined with "; ", and an error about the whole input is under "body"."""
    out: dict[str, list[str]] = {}
    for item in error.errors(include_url=False):
        field = str(item["loc"][0]) if item["loc"] else "body"
        out.setdefault(field, [])
        message = _message(item)
        if message not in out[field]:
            out[field].append(message)
    return {field: "; ".join(messages) for field, messages in out.items()}


def _message(item: dict[str, Any]) -> str:
    ctx = item.get("ctx") or {}
    if item["type"] == "campaign":
        return item["msg"]
    if item["type"] == "string_pattern_mismatch":
        meaning = PATTERN_MEANING.get(ctx.get("pattern"), "in the expected form")
        return f"{item['input']!r} is not {meaning}" if len(item["loc"]) > 1 \
            else f"must be {meaning}"
    if item["type"] == "too_short" and ctx.get("min_length") == 1:
        return "pick at least one"
    template = _MESSAGES.get(item["type"])
    if template is None:
        return item["msg"]
    try:
        return template.format(**{k: (f"{v:g}" if isinstance(v, float) else v)
                                  for k, v in ctx.items()})
    except (KeyError, ValueError):
        return item["msg"]

