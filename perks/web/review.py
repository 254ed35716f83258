"""Review pages: the brand's queue of flagged accounts, decisions (one or bulk), the threshold
view. Every route needs login and reads and writes only the current user's brand."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from perks.campaigns.store import CampaignError, find_campaign
from perks.db import get_session
from perks.detection import policy
from perks.detection.audit import DEFAULT_SAMPLE, MIN_DECIDED
from perks.models import REVIEW_DECISIONS
from perks.review import audit as pool_audit
from perks.review import decisions
from perks.review.queue import MODEL_REASON, STATES, brand_campaigns, queue_page
from perks.review.threshold import threshold_view
from perks.web.access import EVERYONE, REVIEWERS, roles_required
from perks.web.params import id_list, int_arg, page_arg, parse_int

blueprint = Blueprint("review", __name__, url_prefix="/review")
PER_PAGE = 50


@blueprint.route("/")
@roles_required(*EVERYONE)
def index():
    session = get_session()
    campaigns = brand_campaigns(session, current_user.brand_id)
    campaign_id = int_arg("campaign")
    if campaign_id is not None and campaign_id not in {c.id for c in campaigns}:
        campaign_id = None  # another brand's campaign id is ignored, never revealed
    state = request.args.get("state", "pending")
    state = state if state in STATES else "pending"
    reason = request.args.get("reason", "").strip()[:60] or None
    page = queue_page(session, brand_id=current_user.brand_id, campaign_id=campaign_id,
                      reason=reason, state=state, page=page_arg(),
                      per_page=PER_PAGE)
    return render_template("review/index.html", page=page, campaigns=campaigns,
                           campaign_id=campaign_id, state=state, reason=reason or "",
                           states=STATES, decisions=REVIEW_DECISIONS, model_reason=MODEL_REASON)


@blueprint.route("/decide", methods=["POST"])
@roles_required(*REVIEWERS)
def decide():
    session = get_session()
    one = request.form.get("one", "")  # "<account_id>:<decision>" from a row's button
    if one:
        account_id, _, decision = one.partition(":")
        ids = [parse_int(account_id, "one")]
    else:
        decision = request.form.get("bulk", "")
        ids = id_list("account_id")
    if decision not in REVIEW_DECISIONS:
        abort(400)
    if not ids:
        flash("Select at least one account.", "error")
        return redirect(_back())
    items = [(i, int_arg(f"version_{i}", 0, low=0, source=request.form)) for i in ids]
    try:
        result = decisions.decide_many(session=session, brand_id=current_user.brand_id,
                                       items=items, decision=decision,
                                       note=request.form.get("note"), user_id=current_user.id)
    except decisions.ReviewError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(_back())
    session.commit()
    if result.decided:
        flash(f"{len(result.decided)} marked “{decision}”; the brand's shortlists are updated.",
              "info")
    for conflict in result.conflicts:
        flash(f"Conflict: {conflict}. Look again and decide.", "error")
    return redirect(_back())


def _back() -> str:
    back = str(request.form.get("back", ""))
    return back if back.startswith("/review") and "//" not in back else url_for("review.index")


@blueprint.route("/threshold")
@roles_required(*EVERYONE)
def threshold():
    session = get_session()
    view = threshold_view(session=session, brand_id=current_user.brand_id,
                          detector=policy.detector_or_none(current_user.brand_id))
    audits = [pool_audit.campaign_audit(session=session, campaign=c)
              for c in brand_campaigns(session, current_user.brand_id)]
    return render_template("review/threshold.html", view=view, audits=audits)


def _campaign_or_404(session, campaign_id: int):
    try:
        return find_campaign(session=session, ref=str(campaign_id),
                             brand_id=current_user.brand_id)
    except CampaignError:
        abort(404)  # another brand's campaign: never revealed


@blueprint.route("/audit/<int:campaign_id>")
@roles_required(*EVERYONE)
def audit(campaign_id: int):
    session = get_session()
    campaign = _campaign_or_404(session, campaign_id)
    tolerate = request.args.get("tolerate", type=float)
    tolerated = None if tolerate is None else min(max(tolerate, 0.0), 100.0) / 100
    result = pool_audit.campaign_audit(session=session, campaign=campaign, tolerated=tolerated)
    return render_template("review/audit.html", audit=result, tolerate=tolerate,
                           decisions=REVIEW_DECISIONS, min_decided=MIN_DECIDED,
                           default_size=DEFAULT_SAMPLE)


@blueprint.route("/audit/<int:campaign_id>/draw", methods=["POST"])
@roles_required(*REVIEWERS)
def draw_audit(campaign_id: int):
    session = get_session()
    campaign = _campaign_or_404(session, campaign_id)
    size = min(max(request.form.get("size", DEFAULT_SAMPLE, type=int), 10), 500)
    drawn = pool_audit.draw_sample(session=session, campaign=campaign, size=size)
    session.commit()
    flash(f"Drew a uniform sample of {drawn} accounts from the campaign's matched pool. "
          "Decide each one: the estimate appears after {MIN_DECIDED} decisions."
          .replace("{MIN_DECIDED}", str(MIN_DECIDED)), "info")
    return redirect(url_for("review.audit", campaign_id=campaign.id))
