"""Privacy pages: the public removal request form (no login); the operator's pages to decide
requests and forget an account; a brand admin's "remove from our campaigns". Thin: validate
the form, call perks.privacy, redirect."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from perks.accounts import get_account
from perks.auth import throttle
from perks.campaigns.allocation import refill
from perks.campaigns.service import withdraw_from_brand
from perks.db import checkpoint, get_engine, get_session
from perks.models import Account
from perks.privacy.forget import forget_account
from perks.privacy.removal import (
    RemovalError,
    clean_handle,
    confirm_request,
    pending_requests,
    reject_request,
    submit_removal,
)
from perks.web.access import ADMINS, OPERATORS, roles_required

blueprint = Blueprint("privacy", __name__)
PUBLIC_ENDPOINTS = {"privacy.removal"}  # reachable without login


class RemovalForm(FlaskForm):
    handle = StringField("Handle or profile link", validators=[DataRequired(), Length(max=200)])
    platform = StringField("Platform (leave empty for every platform)", validators=[
        Optional(), Length(max=30), Regexp(r"^[A-Za-z0-9_.\-]+$", message="Not a platform name.")])
    contact_email = EmailField("Email to tell you when it is done (optional)", validators=[
        Optional(), Length(max=320), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                                            message="Not an email address.")])


@blueprint.route("/removal", methods=["GET", "POST"])
@roles_required()  # public: the people in the pool have no login
def removal():
    form = RemovalForm()
    status = 200
    if form.validate_on_submit():
        session = get_session()
        secret = current_app.config["SECRET_KEY"]
        try:
            handle = clean_handle(form.handle.data)
        except RemovalError as error:
            form.handle.errors = [*form.handle.errors, str(error)]
        else:
            attempt = throttle.attempt(
                session=session, keys=throttle.removal_keys(secret, handle, request.remote_addr),
                limits=current_app.config.get("RATE_LIMITS"))
            if not attempt.allowed:
                form.handle.errors = [*form.handle.errors, attempt.message]
                status = 429
            else:
                submit_removal(session=session, handle=handle, platform=form.platform.data,
                               contact_email=form.contact_email.data,
                               client_ip=request.remote_addr, secret=secret)
                session.commit()
                # Same answer whether or not the handle is in the pool: the page reveals nothing.
                return render_template("privacy/removal_done.html")
    return render_template("privacy/removal.html", form=form), status


@blueprint.route("/privacy/requests")
@roles_required(*OPERATORS)
def requests():
    return render_template("privacy/requests.html", pending=pending_requests(
        session=get_session(), secret=current_app.config["SECRET_KEY"]))


@blueprint.route("/privacy/requests/<int:request_id>/confirm", methods=["POST"])
@roles_required(*OPERATORS)
def confirm(request_id: int):
    session = get_session()
    try:
        decision = confirm_request(session=session, request_id=request_id,
                                   actor=current_user.email,
                                   secret=current_app.config["SECRET_KEY"])
    except RemovalError as error:
        session.rollback()
        flash(str(error), "error")
    else:
        if decision.forgotten:
            refill(session, decision.forgotten.campaign_ids)
        session.commit()
        checkpoint(get_engine())
        forgotten = decision.forgotten
        flash(f"Request {request_id} confirmed: {forgotten.accounts if forgotten else 0} "
              "account(s) erased, the handle is suppressed.", "info")
    return redirect(url_for("privacy.requests"))


@blueprint.route("/privacy/requests/<int:request_id>/reject", methods=["POST"])
@roles_required(*OPERATORS)
def reject(request_id: int):
    session = get_session()
    try:
        reject_request(session=session, request_id=request_id, actor=current_user.email)
    except RemovalError as error:
        session.rollback()
        flash(str(error), "error")
    else:
        session.commit()
        checkpoint(get_engine())
        flash(f"Request {request_id} rejected.", "info")
    return redirect(url_for("privacy.requests"))


def _confirmed_account(account_id: int) -> Account | None:
    # An account the user's brand cannot see is a 404, as on its page (removal requests, by
    # handle, reach every account).
    record = get_account(get_session(), account_id, brand_id=current_user.brand_id)
    if record is None:
        abort(404)
    if not request.form.get("confirm"):
        flash("Tick the box to confirm.", "error")
        return None
    return record


@blueprint.route("/privacy/accounts/<int:account_id>/forget", methods=["POST"])
@roles_required(*OPERATORS)  # erases a shared-pool account for every brand
def forget(account_id: int):
    record = _confirmed_account(account_id)
    if record is None:
        return redirect(url_for("pages.account", account_id=account_id))
    session = get_session()
    result = forget_account(session=session, account=record, actor=current_user.email)
    refill(session, result.campaign_ids)
    session.commit()
    checkpoint(get_engine())
    flash(f"{result.handle} forgotten: erased with everything derived from it, and suppressed "
          "on later imports.", "info")
    return redirect(url_for("pages.accounts"))


@blueprint.route("/privacy/accounts/<int:account_id>/withdraw", methods=["POST"])
@roles_required(*ADMINS)  # a brand's own campaigns only
def withdraw(account_id: int):
    record = _confirmed_account(account_id)
    if record is not None:
        session = get_session()
        count = withdraw_from_brand(session=session, brand_id=current_user.brand_id,
                                    account_id=account_id)
        session.commit()
        flash(f"@{record.screen_name} removed from {count} of your campaign(s); it stays "
              "dropped when their shortlists refresh.", "info")
    return redirect(url_for("pages.account", account_id=account_id))
