"""Privacy pages: the public removal request form (no login), and admin-only pages to decide
requests and forget an account. Thin: validate the form, call perks.privacy, redirect."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from perks.campaigns.allocation import refill
from perks.db import get_session
from perks.models import Account
from perks.privacy.forget import forget_account
from perks.privacy.removal import (
    RATE_LIMIT,
    RateLimited,
    RemovalError,
    confirm_request,
    pending_requests,
    reject_request,
    submit_removal,
)
from perks.web.access import ADMINS, roles_required

blueprint = Blueprint("privacy", __name__)
PUBLIC_ENDPOINTS = {"privacy.removal"}  # reachable without login


class RemovalForm(FlaskForm):
    handle = StringField("Handle or profile link", validators=[DataRequired(), Length(max=200)])
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
        try:
            submit_removal(session=session, handle=form.handle.data,
                           contact_email=form.contact_email.data,
                           client_ip=request.remote_addr,
                           limit=current_app.config.get("REMOVAL_RATE_LIMIT", RATE_LIMIT))
        except RateLimited as error:
            session.rollback()
            form.handle.errors = [*form.handle.errors, str(error)]
            status = 429
        except RemovalError as error:
            session.rollback()
            form.handle.errors = [*form.handle.errors, str(error)]
        else:
            session.commit()
            # Same answer whether or not the handle is in the pool: the page reveals nothing.
            return render_template("privacy/removal_done.html")
    return render_template("privacy/removal.html", form=form), status


@blueprint.route("/privacy/requests")
@roles_required(*ADMINS)
def requests():
    return render_template("privacy/requests.html",
                           pending=pending_requests(session=get_session()))


@blueprint.route("/privacy/requests/<int:request_id>/confirm", methods=["POST"])
@roles_required(*ADMINS)
def confirm(request_id: int):
    session = get_session()
    try:
        decision = confirm_request(session=session, request_id=request_id,
                                   actor=current_user.email)
    except RemovalError as error:
        session.rollback()
        flash(str(error), "error")
    else:
        if decision.forgotten:
            refill(session, decision.forgotten.campaign_ids)
        session.commit()
        forgotten = decision.forgotten
        flash(f"Request {request_id} confirmed: {forgotten.accounts if forgotten else 0} "
              "account(s) erased, the handle is suppressed.", "info")
    return redirect(url_for("privacy.requests"))


@blueprint.route("/privacy/requests/<int:request_id>/reject", methods=["POST"])
@roles_required(*ADMINS)
def reject(request_id: int):
    session = get_session()
    try:
        reject_request(session=session, request_id=request_id, actor=current_user.email)
    except RemovalError as error:
        session.rollback()
        flash(str(error), "error")
    else:
        session.commit()
        flash(f"Request {request_id} rejected.", "info")
    return redirect(url_for("privacy.requests"))


@blueprint.route("/privacy/accounts/<int:account_id>/forget", methods=["POST"])
@roles_required(*ADMINS)
def forget(account_id: int):
    session = get_session()
    record = session.get(Account, account_id)
    if record is None:
        abort(404)
    if not request.form.get("confirm"):
        flash("Tick the box to confirm: forgetting cannot be undone.", "error")
        return redirect(url_for("pages.account", account_id=account_id))
    result = forget_account(session=session, account=record, actor=current_user.email)
    refill(session, result.campaign_ids)
    session.commit()
    flash(f"{result.handle} forgotten: erased with everything derived from it, and suppressed "
          "on later imports.", "info")
    return redirect(url_for("pages.accounts"))
