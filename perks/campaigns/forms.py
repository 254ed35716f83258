"""The campaign form (Flask-WTF), generated from perks.campaigns.schema: one WTForms field per
schema field, with its label, hint and default. WTForms only turns the posted text into
values; every limit and cross-field rule is the schema's, checked in `validate`."""

from datetime import date
from typing import Any, Literal, get_origin

from flask_wtf import FlaskForm
from pydantic import ValidationError
from pydantic.fields import FieldInfo
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
)
from wtforms.validators import InputRequired, Optional

try:  # wtforms 3.3 deprecates (value, label) tuples
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - wtforms < 3.3
    SelectChoice = None

from perks.campaigns.schema import (
    FIELDS,
    STRICTNESS,
    base_type,
    default,
    door,
    problems,
    read_strictness,
    split_list,
    validate_campaign,
)
from perks.models import Campaign


def _choices(pairs: Any) -> list[Any]:
    return [SelectChoice(value, label) for value, label in pairs] if SelectChoice else list(pairs)


def _field(name: str, info: FieldInfo) -> Any:
    kind, nullable = base_type(info)
    look = door(name)
    value = default(name)
    common: dict[str, Any] = {"label": info.title, "description": info.description or ""}
    if not info.is_required() and not isinstance(value, list):
        common["default"] = value
    # Empty optional input is None; an empty required number is "required", not "not a number".
    needs = [Optional()] if nullable else [InputRequired("required")]
    if look.widget == "topics":
        return SelectMultipleField(**common)  # choices come from the taxonomy, per request
    if look.widget == "codes":
        return StringField(**common)
    if get_origin(kind) is Literal or look.choices:
        field_class = RadioField if look.widget == "radio" else SelectField
        return field_class(choices=_choices(look.choices), **common)
    if kind is bool:
        return BooleanField(**common)
    if kind is int:
        return IntegerField(validators=needs, **common)
    if kind is float:
        return FloatField(validators=needs, **common)
    if kind is date:
        return DateField(validators=[Optional()], **common)
    return (TextAreaField if look.widget == "textarea" else StringField)(**common)


class CampaignForm(FlaskForm):
    """The schema's fields (added below), plus CSRF from Flask-WTF."""

    def __init__(self, *args: Any, topic_choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.topics.choices = _choices(topic_choices)
        self._topic_slugs = {slug for slug, _label in topic_choices}

    def validate(self, extra_validators: Any = None) -> bool:
        """WTForms' parsing, then the schema's rules; a field shows its first problem only."""
        valid = super().validate(extra_validators)
        try:
            validate_campaign(self.campaign_data(), topic_slugs=self._topic_slugs)
        except ValidationError as error:
            self.add_problems(problems(error))
            valid = False
        return valid

    def add_problems(self, found: dict[str, str]) -> None:
        """Show {field: message} problems (the schema's, or a CampaignError's) on their
        fields; a field that already shows an error keeps just that one."""
        for name, message in found.items():
            field = self._fields.get(name)
            if field is not None and not field.errors:
                field.errors = [message]

    def campaign_data(self) -> dict[str, Any]:
        """The fields as store.create_campaign / update_campaign take them."""
        data = {name: self[name].data for name in FIELDS}
        for name in FIELDS:
            if door(name).widget == "codes":
                data[name] = split_list(data[name])
        data["perk_description"] = data["perk_description"] or ""
        return data

    @classmethod
    def for_campaign(cls, campaign: Campaign, **kwargs: Any) -> "CampaignForm":
        form = cls(obj=campaign, **kwargs)
        # A threshold set by a script is offered as it is, so saving the form keeps it.
        strictness = read_strictness(campaign.bot_strictness)
        if strictness not in STRICTNESS:
            form.bot_strictness.choices = _choices(
                [*door("bot_strictness").choices, (strictness, f"Threshold {strictness}")])
        if not form.is_submitted():
            form.bot_strictness.data = strictness
            for name in FIELDS:
                if door(name).widget == "codes":
                    form[name].data = ", ".join(getattr(campaign, name))
        return form


for _name, _info in FIELDS.items():
    setattr(CampaignForm, _name, _field(_name, _info))
