"""Login and logout."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from perks.db import get_session
from perks.users import authenticate
from perks.web.extensions import load_user

blueprint = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=500)])
    remember = BooleanField("Keep me logged in")


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(session=get_session(), email=form.email.data,
                            password=form.password.data)
        if user is not None:
            login_user(load_user(str(user.id)), remember=form.remember.data)
            current_app.logger.info("login ok for user %s", user.id)
            return redirect(_safe_next(request.args.get("next")) or url_for("pages.home"))
        flash("Wrong email or password.", "error")
    return render_template("auth/login.html", form=form)


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: an open redirect would turn the login page into a phishing aid.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@blueprint.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
