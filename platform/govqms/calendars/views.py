"""The schedule of a jurisdiction or an agency, and its calendar feeds."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from govqms.calendars import schedule, services
from govqms.calendars.models import CalendarFeed
from govqms.calendars.schemas import FeedSchema, ScheduleFilter
from govqms.core.clock import today as current_day
from govqms.core.forms import confirm_page
from govqms.core.listing import ListPage, list_args
from govqms.core.permissions import Action
from govqms.core.schemas import first_errors
from govqms.core.tenancy import TenantScope, set_scope
from govqms.core.text import sort_key
from govqms.core.web import requires, year_arg
from govqms.extensions import db
from govqms.tenancy.blueprints import oversight_blueprint, workspace_blueprint
from govqms.tenancy.models import KIND_LABELS, Tenant

jurisdiction_schedule = oversight_blueprint("schedule", __name__, "/schedule")
agency_calendar = workspace_blueprint("calendar", __name__, "/calendar")
feeds = Blueprint("feeds", __name__)
blueprints = [jurisdiction_schedule, agency_calendar, feeds]
PER_PAGE = 200


def _year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _timeline(tenants: list[Tenant], template: str, **context):
    year, args = year_arg(), list_args(ScheduleFilter)
    kind, agency_kind = args["kind"], args["agency_kind"]
    shown = [t for t in tenants if not agency_kind or t.kind == agency_kind]
    by_id = {t.id: t for t in tenants}
    events = schedule.events([t.id for t in shown], *_year_bounds(year), kinds={kind} if kind else None)
    page = ListPage(events, args["page"], PER_PAGE)
    context = {"new_token": None, "feed_errors": {}, **context}
    return render_template(template, page=page, year=year, kind=kind, agency_kind=agency_kind, tenants=by_id,
                           KINDS=schedule.KIND_LABELS, KIND_LABELS=KIND_LABELS,
                           agency_kinds=sorted({t.kind for t in tenants},
                                               key=lambda k: sort_key(str(KIND_LABELS.get(k, k)))),
                           event_url=services.event_url, **context)


# --- a jurisdiction ------------------------------------------------------------------------------

def _jurisdiction_page(**context):
    return _timeline(services.jurisdiction_tenants(g.jurisdiction), "calendars/schedule.html", subject=g.jurisdiction,
                     endpoints=("schedule.index", "schedule.create_feed", "schedule.revoke_feed"),
                     feeds=services.feeds_of(current_user, jurisdiction=g.jurisdiction), **context)


@jurisdiction_schedule.route("/")
@requires(Action.OVERSIGHT_VIEW)
def index():
    return _jurisdiction_page()


@jurisdiction_schedule.route("/feeds", methods=["POST"])
@requires(Action.OVERSIGHT_VIEW)
def create_feed():
    return _create(lambda label: services.create_feed(current_user, label, jurisdiction=g.jurisdiction),
                   _jurisdiction_page)


@jurisdiction_schedule.route("/feeds/<int:feed_id>/revoke", methods=["GET", "POST"])
@requires(Action.OVERSIGHT_VIEW)
def revoke_feed(feed_id: int):
    return _revoke(services.live_feed(current_user, feed_id, jurisdiction=g.jurisdiction), ".index")


# --- an agency -----------------------------------------------------------------------------------

def _agency_page(**context):
    return _timeline([g.tenant], "calendars/schedule.html", subject=g.tenant,
                     endpoints=("calendar.calendar", "calendar.create_agency_feed", "calendar.revoke_agency_feed"),
                     feeds=services.feeds_of(current_user, tenant=g.tenant), **context)


@agency_calendar.route("/")
@requires(Action.WORKSPACE_VIEW)
def calendar():
    return _agency_page()


@agency_calendar.route("/feeds", methods=["POST"])
@requires(Action.WORKSPACE_VIEW)
def create_agency_feed():
    if g.access.read_only:  # an overseer, or a merged agency's history: the agency's feeds are its own
        abort(403)
    return _create(lambda label: services.create_feed(current_user, label, tenant=g.tenant), _agency_page)


@agency_calendar.route("/feeds/<int:feed_id>/revoke", methods=["GET", "POST"])
@requires(Action.WORKSPACE_VIEW)
def revoke_agency_feed(feed_id: int):
    return _revoke(services.live_feed(current_user, feed_id, tenant=g.tenant), ".calendar")


# --- shared --------------------------------------------------------------------------------------

def _create(make, page):
    try:
        data = FeedSchema().load(request.form)
    except ValidationError as error:
        return page(feed_errors=first_errors(error.messages)), 422
    _feed, token = make(data["label"])
    db.session.commit()
    flash(_("Calendar address created. Copy it now: it is shown only once."), "success")
    return page(new_token=url_for("feeds.ics", token=token, _external=True))


def _revoke(feed: CalendarFeed | None, back: str):
    """Revoke *feed*, the user's live feed of this page (None: 404), after a confirmation page."""
    if feed is None:
        abort(404)
    if request.method == "GET":
        return confirm_page(
            title=_("Revoke the calendar address “%(label)s”?", label=feed.label),
            message=_("Calendars subscribed to this address stop receiving the schedule. This cannot be undone; "
                      "you can create a new address."),
            action_label=_("Revoke"), cancel_url=url_for(back))
    services.revoke(feed)
    db.session.commit()
    flash(_("The calendar address was revoked."), "info")
    return redirect(url_for(back))


@feeds.route("/calendar/<token>.ics")
def ics(token: str):
    """The feed itself: no sign-in, the secret address is the key (calendar apps cannot sign in)."""
    feed = services.find_feed(token)
    if feed is None:
        abort(404)
    tenants = services.feed_tenants(feed)
    g.scope_token = set_scope(TenantScope.readonly([t.id for t in tenants]), db.session)  # reset at teardown
    today = current_day()
    events = schedule.events([t.id for t in tenants], today.replace(year=today.year - 1, month=1, day=1),
                             dt.date(today.year + 1, 12, 31))
    body = services.to_ical(services.feed_name(feed), events, {t.id: t for t in tenants}, request.host)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = "inline; filename=govqms.ics"
    response.headers["Cache-Control"] = "private, max-age=900"
    return response
