"""The JSON API's shapes: what it takes and what it answers. The campaign input is the one
campaign schema (perks.campaigns.schema); the rest are pydantic models here, and the OpenAPI
document (perks.web.openapi) is generated from these same classes. Inputs are validated
strictly (a string is not a number) and every problem comes back in one answer."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from perks.campaigns.schema import NO_NUL, CampaignFields, read_strictness
from perks.models import CAMPAIGN_STATUSES, REVIEW_DECISIONS, Account
from perks.review.queue import STATES, QueueItem

Text = Annotated[str, StringConstraints(pattern=NO_NUL)]
ID_MAX = 2**62


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)


class DecisionIn(Strict):
    account_id: int = Field(ge=1, le=ID_MAX)
    decision: str = Field(pattern="^(" + "|".join(REVIEW_DECISIONS) + ")$")
    version: int = Field(ge=0, le=ID_MAX, description="The version you saw: 0 when there was "
                                                      "no decision.")
    note: Annotated[Text, StringConstraints(max_length=2000)] | None = None


class PageQuery(BaseModel):
    """Query parameters (strings on the wire, so read leniently); unknown ones are ignored."""

    page: int = Field(1, ge=1, le=10**9)
    per_page: int = Field(50, ge=1, le=200)


class ShortlistQuery(PageQuery):
    status: Literal[CAMPAIGN_STATUSES] | None = None  # type: ignore[valid-type]


class QueueQuery(PageQuery):
    state: Literal[STATES] = "pending"  # type: ignore[valid-type]
    campaign_id: int | None = Field(None, ge=0, le=ID_MAX)


class ExportQuery(BaseModel):
    kind: Literal["approved", "all", "analyst"] = Field(
        "approved", description="approved: who gets the perk; all: every shortlist row; "
                                "analyst: every row with the model columns")
    excel: Literal["0", "1"] = Field("0", description="1: start with a UTF-8 byte order mark, "
                                                      "for Excel and LibreOffice")
    all: Literal["0", "1"] = Field("0", description="older spelling of kind=all")
    bom: Literal["0", "1"] = Field("0", description="older spelling of excel=1")


class ReviewState(BaseModel):
    decision: str | None = None
    version: int


class Error(BaseModel):
    error: str
    message: str
    problems: dict[str, str] | None = Field(
        None, description="Each invalid field with what is wrong with it, all at once.")
    current: ReviewState | None = Field(None, description="On 409: the decision made first.")


class Campaign(CampaignFields):
    """A stored campaign: its fields, as sent, plus what perks adds."""

    model_config = ConfigDict(extra="ignore", json_schema_serialization_defaults_required=True)

    id: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def answer(cls, campaign: Any) -> dict[str, Any]:
        data = campaign.model_dump(mode="json", exclude={"brand_id"})
        return {**data, "bot_strictness": read_strictness(data["bot_strictness"])}


class CampaignList(BaseModel):
    items: list[Campaign]


class CampaignDetail(Campaign):
    counts: dict[str, int] = Field(description="Shortlist entries by status.")


class ShortlistRow(BaseModel):
    """A row as perks.campaigns.service.shortlist_item gives it."""

    rank: int | None
    status: Literal[CAMPAIGN_STATUSES]  # type: ignore[valid-type]
    account_id: int
    handle: str
    name: str | None
    platform: str
    followers: int
    score: float | None
    percentile: float | None
    relevance: float | None
    bot_probability: float | None


class PageOf(BaseModel):
    page: int
    per_page: int
    total: int
    pages: int

    @staticmethod
    def answer(page: Any, items: list[Any]) -> dict[str, Any]:
        return {"items": items, "page": page.page, "per_page": page.per_page,
                "total": page.total, "pages": page.pages}


class ShortlistPage(PageOf):
    items: list[ShortlistRow]


class QueuePage(PageOf):
    items: list[QueueItem]  # the review queue's own dataclass: the document follows it


class AccountTopicWeight(BaseModel):
    slug: str
    weight: float


class AccountOut(BaseModel):
    id: int
    handle: str
    name: str | None
    platform: str
    followers: int
    score: float | None
    percentile: float | None
    bot_probability: float | None
    bot_flags: list[str]
    topics: list[AccountTopicWeight]
    review: ReviewState = Field(description="Your brand's decision only.")

    @classmethod
    def answer(cls, found: Account, topics: list[dict[str, Any]],
               review: ReviewState) -> dict[str, Any]:
        return {"id": found.id, "handle": found.screen_name, "name": found.name,
                "platform": found.platform, "followers": found.followers_count,
                "score": found.influence_score, "percentile": found.influence_percentile,
                "bot_probability": found.bot_probability,
                "bot_flags": list(found.bot_flags or []),
                "topics": [{"slug": t["slug"], "weight": t["weight"]} for t in topics],
                "review": review.model_dump()}


class Decision(BaseModel):
    account_id: int
    decision: str
    version: int


# Query parameters, described as parameters (not components) in the document.
QUERIES: tuple[type[BaseModel], ...] = (ShortlistQuery, QueueQuery, ExportQuery)
# What the OpenAPI document describes, by component name.
SHAPES: tuple[type[BaseModel], ...] = (
    CampaignFields, Campaign, CampaignList, CampaignDetail, ShortlistPage, QueuePage,
    AccountOut, DecisionIn, Decision, Error)
