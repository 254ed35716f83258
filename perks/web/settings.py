"""Settings: the brand's users (admins only) and each user's own API tokens.

A new token is rendered once on the response page, never flashed: a flash would put it in the
session cookie, which is signed but readable.
"""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from perks.auth.tokens import NAME_MAX, TokenError, create_token, list_tokens, revoke_token
from perks.auth.users import EmailTaken, UserError, create_user
from perks.campaigns.forms import _choices
from perks.db import get_session
from perks.models import BRAND_ROLES, Brand, User
from perks.web.access import ADMINS, EVERYONE, roles_required

blueprint = Blueprint("settings", __name__, url_prefix="/settings")


class UserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=500)])
    role = SelectField("Role", choices=_choices([(r, r) for r in BRAND_ROLES]), default="reviewer")


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=NAME_MAX)],
                       description="What the token is for, e.g. “weekly export script”")


@blueprint.route("/users", methods=["GET", "POST"])
@roles_required(*ADMINS)
def users():
    session = get_session()
    form = UserForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        try:
            create_user(session=session, email=email, password=form.password.data,
                        role=form.role.data, brand=session.get(Brand, current_user.brand_id),
                        hash_method=current_app.config["PASSWORD_HASH_METHOD"])
        except EmailTaken:
            # Taken in another brand or this one: the same answer as a new email, or the form
            # would tell any brand's admin who uses perks elsewhere.
            session.rollback()
            flash(_added(email, form.role.data), "info")
            return redirect(url_for("settings.users"))
        except UserError as error:
            session.rollback()
            form.email.errors = [*form.email.errors, str(error)]
        else:
            session.commit()
            flash(_added(email, form.role.data), "info")
            return redirect(url_for("settings.users"))
    people = session.exec(select(User).where(User.brand_id == current_user.brand_id)
                          .order_by(User.email)).scalars().all()
    return render_template("settings/users.html", form=form, users=people)


def _added(email: str, role: str) -> str:
    return (f"{email} is added as {role} unless the address already has a perks account; "
            "the list below shows your brand's users.")


@blueprint.route("/tokens", methods=["GET", "POST"])
@roles_required(*EVERYONE)
def tokens():
    session = get_session()
    form = TokenForm()
    created = None
    if form.validate_on_submit():
        try:
            created = create_token(session=session, user=session.get(User, current_user.id),
                                   name=form.name.data)
        except TokenError as error:
            session.rollback()
            form.name.errors = [*form.name.errors, str(error)]
        else:
            session.commit()
            form = TokenForm(formdata=None)
    return render_template("settings/tokens.html", form=form, created=created,
                           tokens=list_tokens(session=session, user_id=current_user.id))


@blueprint.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@roles_required(*EVERYONE)
def revoke(token_id: int):
    session = get_session()
    try:
        token = revoke_token(session=session, token_id=token_id, user_id=current_user.id)
    except TokenError:
        abort(404)  # someone else's token is as absent as a missing one
    session.commit()
    flash(f"Token “{token.name}” revoked.", "info")
    return redirect(url_for("settings.tokens"))
