"""Input shapes for the JSON API: validated at the edge, strictly (a string is not a number),
then handed to the same store functions the web forms and the CLI use."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from perks.models import REVIEW_DECISIONS

# PostgreSQL refuses NUL in text; refusing it here makes that a 422, not a 500.
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, StringConstraints(pattern=NO_NUL)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)]
Slug = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=NO_NUL)]
Lang = Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=NO_NUL)]
INT_MAX = 2_000_000_000  # below PostgreSQL's integer limit


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)


class CampaignIn(Strict):
    name: Name
    topics: list[Slug] = Field(min_length=1, max_length=50)
    perk_description: Annotated[Text, StringConstraints(max_length=2000)] = ""
    quantity: int = Field(default=1, ge=1, le=100_000)
    perk_value: float | None = Field(default=None, ge=0, le=1e9)
    topic_mode: str = Field(default="any", pattern="^(any|all)$")
    min_topic_weight: float = Field(default=0.0, ge=0, le=1)
    score_mode: str = Field(default="percentile", pattern="^(percentile|absolute)$")
    score_min: float = Field(default=0.0, ge=0, le=100)
    score_max: float = Field(default=100.0, ge=0, le=100)
    followers_min: int | None = Field(default=None, ge=0, le=INT_MAX)
    followers_max: int | None = Field(default=None, ge=0, le=INT_MAX)
    languages: list[Lang] = Field(default_factory=list, max_length=50)
    location_contains: Annotated[Text, StringConstraints(max_length=100)] | None = None
    bot_strictness: Annotated[Text, StringConstraints(max_length=20)] = "balanced"
    exclude_recent_days: int | None = Field(default=None, ge=1, le=3650)
    one_per_person: bool = True
    opted_in_only: bool = False
    export_bio_location: bool = False
    starts_on: date | None = None
    ends_on: date | None = None


class DecisionIn(Strict):
    account_id: int = Field(ge=1, le=2**62)
    decision: str = Field(pattern="^(" + "|".join(REVIEW_DECISIONS) + ")$")
    version: int = Field(ge=0, le=2**62)  # the version you saw: 0 when there was no decision
    note: Annotated[Text, StringConstraints(max_length=2000)] | None = None
