"""Campaign pages: list, new, edit, the campaign page (funnel, shortlist, why-not), export.

Every route needs login and sees only the current user's brand: another brand's id is a 404.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from perks.campaigns import allocation, charts, matching, why_not
from perks.campaigns.export import ExportError, export_csv, export_filename
from perks.campaigns.export import options as export_options
from perks.campaigns.forms import CampaignForm
from perks.campaigns.store import (
    CampaignError,
    create_campaign,
    get_campaign,
    list_campaigns,
    topic_choices,
    update_campaign,
)
from perks.campaigns.strictness import strictness_table
from perks.db import get_session
from perks.models import Campaign
from perks.web.access import EVERYONE, MANAGERS, roles_required

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
    return render_template("campaigns/index.html", campaigns=campaigns)


@blueprint.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new():
    session = get_session()
    form = CampaignForm(topic_choices=topic_choices(session))
    if form.validate_on_submit():
        try:
            campaign = create_campaign(session=session, brand_id=current_user.brand_id,
                                       data=form.campaign_data())
        except CampaignError as error:
            session.rollback()
            form.name.errors = [*form.name.errors, str(error)]
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
            update_campaign(session=session, campaign=campaign, data=form.campaign_data())
            allocation.refresh(session, campaign,
                               bot_threshold=matching.bot_threshold(campaign.bot_strictness))
        except CampaignError as error:
            session.rollback()
            form.name.errors = [*form.name.errors, str(error)]
        else:
            session.commit()
            flash("Campaign saved; the shortlist kept its decisions.", "info")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=campaign,
                           strictness=strictness_table())


@blueprint.route("/<int:campaign_id>")
@roles_required(*EVERYONE)
def show(campaign_id: int):
    session = get_session()
    campaign = _own_campaign(campaign_id)
    threshold = matching.bot_threshold(campaign.bot_strictness)
    allocation.ensure(session, campaign, bot_threshold=threshold)
    session.commit()
    funnel = matching.funnel(session, campaign, bot_threshold=threshold)
    sort = request.args.get("sort", "rank")
    status = request.args.get("status", "")
    statuses = (status,) if status in allocation.status_counts(session, campaign) else None
    page = allocation.shortlist_page(session, campaign, page=request.args.get("page", 1, type=int),
                                     per_page=PER_PAGE, statuses=statuses, sort=sort)
    handle = request.args.get("handle", "").strip()[:100]
    answer = (why_not.why_not(session, campaign, handle, bot_threshold=threshold)
              if handle else None)
    return render_template("campaigns/show.html", campaign=campaign, funnel=funnel,
                           page=page, sort=sort, status=status, handle=handle, answer=answer,
                           counts=allocation.status_counts(session, campaign),
                           running_state=allocation.running_state(
                               campaign, datetime.now(UTC).date()),
                           charts=charts.campaign_charts(session, campaign,
                                                         bot_threshold=threshold))


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
    result = matching.funnel(session, draft,
                             bot_threshold=matching.bot_threshold(draft.bot_strictness))
    session.rollback()
    return jsonify({"ok": True, "eligible": result.eligible, "offered": result.offered,
                    "quantity": draft.quantity, "pool": result.pool,
                    "stages": [{"label": s.label, "removed": s.removed, "remaining": s.remaining}
                               for s in result.stages]})


@blueprint.route("/<int:campaign_id>/refresh", methods=["POST"])
@roles_required(*MANAGERS)
def refresh(campaign_id: int):
    session = get_session()
    campaign = _own_campaign(campaign_id)
    allocation.refresh(session, campaign,
                       bot_threshold=matching.bot_threshold(campaign.bot_strictness))
    session.commit()
    flash("Shortlist refreshed from the current scores; decisions kept.", "info")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


@blueprint.route("/<int:campaign_id>/decide", methods=["POST"])
@roles_required(*MANAGERS)
def decide(campaign_id: int):
    session = get_session()
    campaign = _own_campaign(campaign_id)
    ids = [int(x) for x in request.form.getlist("account_id") if x.isdigit()]
    action = request.form.get("action")
    if action in ("approve", "drop") and not ids:
        flash(f"Select at least one account to {action}.", "error")
        return redirect(_back(campaign_id))
    try:
        if action == "approve":
            decision = allocation.approve(session, campaign, ids, user_id=current_user.id)
            flash(f"{decision.changed} approved.", "info")
        elif action == "drop":
            decision = allocation.drop(session, campaign, ids, user_id=current_user.id)
            flash(f"{decision.changed} dropped, {len(decision.promoted)} promoted from the "
                  "wait list.", "info")
        else:
            abort(400)
    except allocation.AllocationError as error:
        session.rollback()
        flash(str(error), "error")
    else:
        session.commit()
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


def _encoded_chunks(session, campaign, *, kind: str, excel: bool) -> Iterator[bytes]:
    try:
        for chunk in export_csv(session, campaign, kind=kind, excel=excel):
            yield chunk.encode("utf-8")
    finally:
        # The request's teardown can run before the stream ends; the generator's reads would
        # then hold a pooled connection until garbage collection (the load run exhausted it).
        session.close()


def export_response(session, campaign, args) -> Response:
    """The CSV download of the kind `args` ask for, streamed; the API sends this same response."""
    try:
        chosen = export_options(args)
    except ExportError as error:
        abort(400, str(error))
    allocation.ensure(session, campaign,
                      bot_threshold=matching.bot_threshold(campaign.bot_strictness))
    session.commit()
    name = export_filename(campaign, datetime.now(UTC).date(), **chosen)
    chunks = _encoded_chunks(session, campaign, **chosen)
    return Response(stream_with_context(chunks), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
