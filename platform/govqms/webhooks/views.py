"""The webhook pages of an agency (``/t/<slug>/webhooks/``: its head, management representative and ISO
secretary) and of a jurisdiction (``/o/<code>/webhooks/``: its overseers read, those who manage
inspections change). One set of handlers serves both; the owner comes from the request's scope."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from govqms.core.forms import archive_flow, confirm_page, form_status, process_form
from govqms.core.listing import list_args
from govqms.core.permissions import Action
from govqms.core.web import requires
from govqms.extensions import db
from govqms.tenancy.blueprints import oversight_blueprint, workspace_blueprint
from govqms.webhooks import services
from govqms.webhooks.models import DELIVERY_STATE_LABELS, EVENTS
from govqms.webhooks.schemas import DeliveryFilter, SubscriptionSchema

agency_webhooks = workspace_blueprint("webhooks", __name__, "/webhooks")
jurisdiction_webhooks = oversight_blueprint("jurisdiction_webhooks", __name__, "/webhooks")
blueprints = [agency_webhooks, jurisdiction_webhooks]

#: The URL argument of a subscription, per blueprint (the isolation walk gives each its own record).
ID_ARGS = {"webhooks": "subscription_id", "jurisdiction_webhooks": "jurisdiction_subscription_id"}


def _owner() -> services.Owner:
    if getattr(g, "tenant", None) is not None:
        return services.Owner.of(tenant=g.tenant)
    return services.Owner.of(jurisdiction=g.jurisdiction)


def _may_manage() -> bool:
    action = Action.WEBHOOKS_MANAGE if getattr(g, "tenant", None) is not None else Action.INSPECTIONS_MANAGE
    return g.access.can(action)


def _require_manage() -> None:
    if not _may_manage():
        abort(403)


def hook_url(name: str, subscription=None, **values) -> str:
    """The URL of this blueprint's page *name* (of *subscription*)."""
    blueprint = request.blueprint
    if subscription is not None:
        values[ID_ARGS[blueprint]] = subscription.id
    return url_for(f"{blueprint}.{name}", **values)


def _subscription(subscription_id: int):
    found = services.subscription_of(_owner(), subscription_id)
    if found is None:
        abort(404)
    return found


def _render(template: str, **context):
    subject = g.tenant if getattr(g, "tenant", None) is not None else g.jurisdiction
    return render_template(f"webhooks/{template}", subject=subject, hook_url=hook_url, may_manage=_may_manage(),
                           EVENTS=EVENTS, STATES=DELIVERY_STATE_LABELS, **context)


# --- the handlers, for either owner --------------------------------------------------------------

def _index():
    return _render("index.html", rows=services.subscriptions_of(_owner()))


def _create():
    _require_manage()

    def save(data):
        subscription, secret = services.create(_owner(), url=data["url"], events=data["events"],
                                               user_id=current_user.id)
        db.session.commit()
        return _render("secret.html", subscription=subscription, secret=secret, rotated=False)

    form, errors, done = process_form(SubscriptionSchema(), {"events": []}, save, list_fields=("events",))
    if done is not None:
        return done
    return _render("form.html", form=form, errors=errors), form_status(errors)


def _detail(subscription_id: int):
    subscription = _subscription(subscription_id)
    page = services.deliveries_page(subscription, list_args(DeliveryFilter))
    return _render("detail.html", subscription=subscription, page=page)


def _ping(subscription_id: int):
    _require_manage()
    subscription = _subscription(subscription_id)
    services.send_ping(subscription)
    db.session.commit()  # the delivery's job is enqueued once the delivery is recorded
    flash(_("A test event was sent; its delivery is in the log below."), "info")
    return redirect(hook_url("detail", subscription))


def _set_active(subscription_id: int):
    _require_manage()
    subscription = _subscription(subscription_id)
    active = request.form.get("active") == "1"
    services.set_active(subscription, active)
    db.session.commit()
    flash(_("The webhook is enabled.") if active else _("The webhook is disabled: nothing is sent to it."), "info")
    return redirect(hook_url("detail", subscription))


def _rotate(subscription_id: int):
    _require_manage()
    subscription = _subscription(subscription_id)
    if request.method == "GET":
        return confirm_page(
            title=_("Make a new secret for %(url)s?", url=subscription.url),
            message=_("The current secret stops working at once: the receiver must check signatures with the new "
                      "one, which is shown only once."),
            action_label=_("Make a new secret"), cancel_url=hook_url("detail", subscription), danger=False)
    secret = services.rotate_secret(subscription)
    db.session.commit()
    return _render("secret.html", subscription=subscription, secret=secret, rotated=True)


def _archive(subscription_id: int):
    _require_manage()
    subscription = _subscription(subscription_id)
    return archive_flow(subscription, title=_("Delete the webhook %(url)s?", url=subscription.url),
                        message=_("Nothing more is sent to this address, retries included. Its delivery log is kept."),
                        done=_("The webhook was deleted."), back=".index")


# --- an agency -----------------------------------------------------------------------------------

@agency_webhooks.route("/")
@requires(Action.WEBHOOKS_MANAGE)
def index():
    return _index()


@agency_webhooks.route("/new", methods=["GET", "POST"])
@requires(Action.WEBHOOKS_MANAGE)
def create():
    return _create()


@agency_webhooks.route("/<int:subscription_id>/")
@requires(Action.WEBHOOKS_MANAGE)
def detail(subscription_id: int):
    return _detail(subscription_id)


@agency_webhooks.route("/<int:subscription_id>/ping", methods=["POST"])
@requires(Action.WEBHOOKS_MANAGE)
def ping(subscription_id: int):
    return _ping(subscription_id)


@agency_webhooks.route("/<int:subscription_id>/active", methods=["POST"])
@requires(Action.WEBHOOKS_MANAGE)
def set_active(subscription_id: int):
    return _set_active(subscription_id)


@agency_webhooks.route("/<int:subscription_id>/rotate", methods=["GET", "POST"])
@requires(Action.WEBHOOKS_MANAGE)
def rotate(subscription_id: int):
    return _rotate(subscription_id)


@agency_webhooks.route("/<int:subscription_id>/archive", methods=["GET", "POST"])
@requires(Action.WEBHOOKS_MANAGE)
def archive(subscription_id: int):
    return _archive(subscription_id)


# --- a jurisdiction ------------------------------------------------------------------------------

@jurisdiction_webhooks.route("/", endpoint="index")
@requires(Action.OVERSIGHT_VIEW)
def jurisdiction_index():
    return _index()


@jurisdiction_webhooks.route("/new", methods=["GET", "POST"], endpoint="create")
@requires(Action.INSPECTIONS_MANAGE)
def jurisdiction_create():
    return _create()


@jurisdiction_webhooks.route("/<int:jurisdiction_subscription_id>/", endpoint="detail")
@requires(Action.OVERSIGHT_VIEW)
def jurisdiction_detail(jurisdiction_subscription_id: int):
    return _detail(jurisdiction_subscription_id)


@jurisdiction_webhooks.route("/<int:jurisdiction_subscription_id>/ping", methods=["POST"], endpoint="ping")
@requires(Action.INSPECTIONS_MANAGE)
def jurisdiction_ping(jurisdiction_subscription_id: int):
    return _ping(jurisdiction_subscription_id)


@jurisdiction_webhooks.route("/<int:jurisdiction_subscription_id>/active", methods=["POST"], endpoint="set_active")
@requires(Action.INSPECTIONS_MANAGE)
def jurisdiction_set_active(jurisdiction_subscription_id: int):
    return _set_active(jurisdiction_subscription_id)


@jurisdiction_webhooks.route("/<int:jurisdiction_subscription_id>/rotate", methods=["GET", "POST"],
                             endpoint="rotate")
@requires(Action.INSPECTIONS_MANAGE)
def jurisdiction_rotate(jurisdiction_subscription_id: int):
    return _rotate(jurisdiction_subscription_id)


@jurisdiction_webhooks.route("/<int:jurisdiction_subscription_id>/archive", methods=["GET", "POST"],
                             endpoint="archive")
@requires(Action.INSPECTIONS_MANAGE)
def jurisdiction_archive(jurisdiction_subscription_id: int):
    return _archive(jurisdiction_subscription_id)
