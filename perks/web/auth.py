"""Login and logout. Login is throttled per email and client address (perks.auth.throttle)."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from perks.auth import throttle
from perks.auth.users import authenticate
from perks.db import get_session
from perks.web.access import EVERYONE, roles_required
from perks.web.extensions import load_user

blueprint = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=500)])
    remember = BooleanField("Keep me logged in")


@blueprint.route("/login", methods=["GET", "POST"])
@roles_required()  # public: the way in
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        session = get_session()
        key = throttle.login_key(form.email.data, request.remote_addr,
                                 current_app.config["SECRET_KEY"])
        limit = current_app.config.get("LOGIN_FAILURE_LIMIT", throttle.LIMIT)
        if throttle.is_throttled(session=session, key=key, limit=limit):
            # Refused before the password is checked, so guessing stops costing us hashes too.
            flash("Too many failed logins: wait 15 minutes and try again.", "error")
            return render_template("auth/login.html", form=form), 429
        user = authenticate(session=session, email=form.email.data,
                            password=form.password.data)
        if user is not None:
            throttle.clear_failures(session=session, key=key)
            session.commit()
            login_user(load_user(str(user.id)), remember=form.remember.data)
            current_app.logger.info("login ok for user %s", user.id)
            return redirect(_safe_next(request.args.get("next")) or url_for("pages.home"))
        throttle.record_failure(session=session, key=key)
        session.commit()
        flash("Wrong email or password.", "error")
    return render_template("auth/login.html", form=form), status


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: an open redirect would turn the login page into a phishing aid.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


@blueprint.route("/logout", methods=["POST"])
@roles_required(*EVERYONE)
def logout():
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
