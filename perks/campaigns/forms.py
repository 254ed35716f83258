"""The campaign form (Flask-WTF): every rule of store.check_campaign_data, per field."""

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

try:  # wtforms 3.3 deprecates (value, label) tuples
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - wtforms < 3.3
    SelectChoice = None

from perks.campaigns.store import EDITABLE, LANGUAGE, STRICTNESS
from perks.models import Campaign


def _choices(pairs: list[tuple[str, str]]) -> list[Any]:
    return [SelectChoice(value, label) for value, label in pairs] if SelectChoice else pairs


class CampaignForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    perk_description = TextAreaField("Perk", validators=[Length(max=2000)])
    quantity = IntegerField("How many perks", default=10, validators=[
        InputRequired("Say how many perks there are."),
        NumberRange(min=1, message="At least one perk.")])
    perk_value = FloatField("Value of one perk", validators=[
        Optional(), NumberRange(min=0, message="A value cannot be negative.")])
    topics = SelectMultipleField("Topics", validators=[
        DataRequired("Pick at least one topic.")])
    topic_mode = RadioField("Accounts need", default="any",
                            choices=_choices([("any", "any of the topics"),
                                              ("all", "all of the topics")]))
    min_topic_weight = FloatField("Minimum topic weight", default=0.3, validators=[
        InputRequired(), NumberRange(min=0, max=1, message="Between 0 and 1.")])
    score_mode = RadioField("Score range as", default="percentile", choices=_choices([
        ("percentile", "percentile (survives recalibration)"), ("absolute", "score value")]))
    score_min = FloatField("From", default=0, validators=[
        InputRequired(), NumberRange(min=0, max=100, message="Between 0 and 100.")])
    score_max = FloatField("To", default=100, validators=[
        InputRequired(), NumberRange(min=0, max=100, message="Between 0 and 100.")])
    followers_min = IntegerField("Followers from", validators=[
        Optional(), NumberRange(min=0, message="Cannot be negative.")])
    followers_max = IntegerField("Followers up to", validators=[
        Optional(), NumberRange(min=0, message="Cannot be negative.")])
    languages = StringField("Languages", description="Codes separated by commas, e.g. en, it",
                            validators=[Length(max=200)])
    location_contains = StringField("Location contains", validators=[Length(max=100)])
    bot_strictness = SelectField("Bot strictness", default="balanced",
                                 choices=_choices([(s, s.title()) for s in STRICTNESS]))
    exclude_recent_days = IntegerField("Skip accounts given a perk in the last N days",
                                       validators=[Optional(), NumberRange(min=1, max=3650)])
    one_per_person = BooleanField("One perk per person", default=True)
    opted_in_only = BooleanField("Opted-in accounts only",
                                 description="Leave out accounts whose consent is unknown")
    export_bio_location = BooleanField("Export bio and location",
                                       description="The CSV leaves them out unless asked")
    starts_on = DateField("Starts on", validators=[Optional()])
    ends_on = DateField("Ends on", validators=[Optional()])

    def __init__(self, *args: Any, topic_choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.topics.choices = _choices(topic_choices)

    def validate_score_max(self, field: Any) -> None:
        if self.score_min.data is not None and field.data is not None \
                and field.data < self.score_min.data:
            raise ValidationError("Must not be below the lower end.")

    def validate_followers_max(self, field: Any) -> None:
        if self.followers_min.data is not None and field.data is not None \
                and field.data < self.followers_min.data:
            raise ValidationError("Must not be below the lower end.")

    def validate_languages(self, field: Any) -> None:
        bad = [x for x in _codes(field.data) if not LANGUAGE.match(x)]
        if bad:
            raise ValidationError(f"Not language codes: {', '.join(bad)}.")

    def validate_ends_on(self, field: Any) -> None:
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError("Ends before it starts.")

    def campaign_data(self) -> dict[str, Any]:
        """The fields as store.create_campaign / update_campaign take them."""
        data = {name: self[name].data for name in EDITABLE}
        data["languages"] = _codes(self.languages.data)
        data["location_contains"] = (self.location_contains.data or "").strip() or None
        data["perk_description"] = data["perk_description"] or ""
        return data

    @classmethod
    def for_campaign(cls, campaign: Campaign, **kwargs: Any) -> "CampaignForm":
        form = cls(obj=campaign, **kwargs)
        if not form.is_submitted():
            form.languages.data = ", ".join(campaign.languages)
        return form


def _codes(text: str | None) -> list[str]:
    return [part.strip().lower() for part in (text or "").split(",") if part.strip()]
