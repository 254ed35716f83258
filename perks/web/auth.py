"""Login and logout. Login is rate-limited per email and address, per account and per address
(perks.auth.throttle); logging out ends every session of the user (perks.web.extensions)."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from perks.auth import throttle
from perks.auth.users import authenticate, end_sessions
from perks.db import get_session
from perks.models import User
from perks.web.access import EVERYONE, roles_required
from perks.web.extensions import start_session

blueprint = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=500)])
    remember = BooleanField("Keep me logged in")


@blueprint.route("/login", methods=["GET", "POST"])
@roles_required()  # public: the way in
def login():
    form = LoginForm()
    if form.validate_on_submit():
        session = get_session()
        salt = current_app.config["SECRET_KEY"]
        keys = throttle.login_keys(salt, form.email.data, request.remote_addr)
        # Counted before the password is checked, so guessing stops costing us hashes too.
        attempt = throttle.attempt(session=session, keys=keys,
                                   limits=current_app.config.get("RATE_LIMITS"))
        if not attempt.allowed:
            flash(attempt.message, "error")
            return render_template("auth/login.html", form=form), 429
        user = authenticate(session=session, email=form.email.data,
                            password=form.password.data,
                            hash_method=current_app.config["PASSWORD_HASH_METHOD"])
        if user is not None:
            throttle.release(session=session, attempt=attempt)
            throttle.clear(session=session, key_hash=keys[0][1])
            session.commit()
            login_user(start_session(user), remember=form.remember.data)
            current_app.logger.info("login ok for user %s", user.id)
            return redirect(safe_next(request.args.get("next")) or url_for("pages.home"))
        flash("Wrong email or password.", "error")  # the attempt stays counted as a failure
    return render_template("auth/login.html", form=form)


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: an open redirect would turn the login
    page into a phishing aid. Browsers drop tabs and newlines and read a backslash as a slash
    ("/\\t/evil" is "//evil"), so any control character, space or backslash refuses it."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if any(ord(c) < 0x21 or c in "\\\x7f" for c in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@blueprint.route("/logout", methods=["POST"])
@roles_required(*EVERYONE)
def logout():
    session = get_session()
    user = session.get(User, current_user.id)
    if user is not None:
        end_sessions(user)  # every session and remember cookie of this user, not just this one
        session.commit()
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
