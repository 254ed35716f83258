"""Campaign pages: list, new, edit, the campaign page (funnel, shortlist, why-not), export.

Every route needs login and sees only the current user's brand: another brand's id is a 404.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup

from perks.campaigns import allocation, matching, service
from perks.campaigns.forms import CampaignForm
from perks.campaigns.store import CampaignError, get_campaign, list_campaigns, topic_choices
from perks.db import get_session
from perks.detection.policy import strictness_table
from perks.models import Campaign
from perks.topics import current_taxonomy, missing_slugs
from perks.web.access import EVERYONE, MANAGERS, roles_required
from perks.web.derived import cached, current_version
from perks.web.params import id_list, page_arg
from perks.web.responses import export_response

blueprint = Blueprint("campaigns", __name__, url_prefix="/campaigns")
PER_PAGE = 50


def _own_campaign(campaign_id: int):
    campaign = get_campaign(session=get_session(), brand_id=current_user.brand_id,
                            campaign_id=campaign_id)
    if campaign is None:
        abort(404)
    return campaign


@blueprint.route("/")
@roles_required(*EVERYONE)
def index():
    campaigns = list_campaigns(session=get_session(), brand_id=current_user.brand_id)
    missing = missing_slugs({c.id: c.topics for c in campaigns}, current_taxonomy())
    return render_template("campaigns/index.html", campaigns=campaigns, missing=missing)


@blueprint.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new():
    session = get_session()
    form = CampaignForm(topic_choices=topic_choices(session))
    if form.validate_on_submit():
        try:
            campaign = service.create(session=session, brand_id=current_user.brand_id,
                                      data=form.campaign_data())
        except CampaignError as error:
            session.rollback()
            form.add_problems(error.problems)
        else:
            session.commit()
            flash(f"Campaign “{campaign.name}” created.", "info")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=None,
                           strictness=strictness_table())


@blueprint.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit(campaign_id: int):
    session = get_session()
    campaign = _own_campaign(campaign_id)
    form = CampaignForm.for_campaign(campaign, topic_choices=topic_choices(session))
    if form.validate_on_submit():
        try:
            service.update(session=session, campaign=campaign, data=form.campaign_data())
        except CampaignError as error:
            session.rollback()
            form.add_problems(error.problems)
        else:
            session.commit()
            flash("Campaign saved; the shortlist kept its decisions.", "info")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=campaign,
                           strictness=strictness_table())


@blueprint.route("/<int:campaign_id>")
@roles_required(*EVERYONE)
def show(campaign_id: int):
    sort = request.args.get("sort", "rank")
    status = request.args.get("status", "")
    handle = request.args.get("handle", "").strip()[:100]
    page = page_arg()
    view = _page_view(current_user.brand_id, campaign_id, page=page, sort=sort, status=status,
                      handle=handle)
    data = view.data
    return render_template("campaigns/show.html", campaign=data.campaign, funnel=data.funnel,
                           page=data.page, sort=sort, status=status, handle=handle,
                           answer=data.answer, counts=data.counts,
                           running_state=data.running_state, analysis=view.analysis,
                           has_shortlist=data.has_shortlist, attention=data.attention)


@dataclass(frozen=True)
class _PageView:
    data: service.CampaignPage
    analysis: Markup  # the funnel and the charts, rendered once per data version


def _page_view(brand_id: int, campaign_id: int, **asked: Any) -> _PageView:
    """The campaign page's derived data, read once per data version, day and bot threshold (a
    new model moves the threshold without a write) and kept per worker (perks.web.derived)."""
    version = current_version()  # one version for both entries, read before either's reads
    campaign = cached(("campaign", brand_id, campaign_id),
                      lambda: _detached_campaign(brand_id, campaign_id), version=version)
    if campaign is None:
        abort(404)
    today = datetime.now(UTC).date()

    def make() -> _PageView:
        data = service.page_data(get_session(), campaign, per_page=PER_PAGE, today=today,
                                 **asked)
        return _PageView(data, Markup(render_template(  # noqa: S704 - our own template
            "campaigns/_analysis.html", funnel=data.funnel, counts=data.counts,
            charts=data.charts)))

    return cached(("campaign-page", campaign_id, today, service.threshold(campaign),
                   *sorted(asked.items())), make, version=version)


def _detached_campaign(brand_id: int, campaign_id: int) -> Campaign | None:
    # Out of the request's session, so sharing it with later requests cannot expire it.
    session = get_session()
    campaign = get_campaign(session=session, brand_id=brand_id, campaign_id=campaign_id)
    if campaign is not None:
        session.expunge(campaign)
    return campaign


@blueprint.route("/preview")
@roles_required(*MANAGERS)
def preview():
    """The funnel for the form's current values, before saving: a GET that stores nothing."""
    session = get_session()
    form = CampaignForm(request.args, meta={"csrf": False}, topic_choices=topic_choices(session))
    if not form.validate():
        return jsonify({"ok": False, "errors": [f"{form[name].label.text}: {errors[0]}"
                                                for name, errors in form.errors.items()]})
    draft = Campaign(**form.campaign_data(), brand_id=current_user.brand_id,
                     id=request.args.get("campaign_id", type=int))  # never added to the session
    result = matching.funnel(session, draft, bot_threshold=service.threshold(draft))
    session.rollback()
    return jsonify({"ok": True, "eligible": result.eligible, "offered": result.offered,
                    "quantity": draft.quantity, "pool": result.pool,
                    "stages": [{"label": s.label, "removed": s.removed, "remaining": s.remaining}
                               for s in result.stages]})


@blueprint.route("/<int:campaign_id>/refresh", methods=["POST"])
@roles_required(*MANAGERS)
def refresh(campaign_id: int):
    session = get_session()
    service.refresh(session, _own_campaign(campaign_id))
    session.commit()
    flash("Shortlist refreshed from the current scores; decisions kept.", "info")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


@blueprint.route("/<int:campaign_id>/decide", methods=["POST"])
@roles_required(*MANAGERS)
def decide(campaign_id: int):
    session = get_session()
    campaign = _own_campaign(campaign_id)
    ids = id_list("account_id")
    action = request.form.get("action")
    if action not in ("approve", "drop"):
        abort(400)
    try:
        decision = service.decide(session, campaign, action, ids, user_id=current_user.id)
    except allocation.AllocationError as error:
        session.rollback()
        flash(str(error), "error")
    else:
        session.commit()
        flash(f"{decision.changed} approved." if action == "approve" else
              f"{decision.changed} dropped, {len(decision.promoted)} promoted from the "
              "wait list.", "info")
    return redirect(_back(campaign_id))


def _back(campaign_id: int) -> str:
    back = str(request.form.get("back", ""))
    return back if back.startswith(f"/campaigns/{campaign_id}") and "//" not in back else url_for(
        "campaigns.show", campaign_id=campaign_id)


@blueprint.route("/<int:campaign_id>/export.csv")
@roles_required(*MANAGERS)
def export(campaign_id: int):
    session = get_session()
    campaign = _own_campaign(campaign_id)
    return export_response(session, campaign, request.args)
