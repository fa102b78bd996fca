"""Each user's inbox (/inbox/) and how they want to be emailed."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from werkzeug.routing import BuildError

from govqms.core.listing import list_args
from govqms.core.mail import mail_configured
from govqms.core.schemas import first_errors
from govqms.extensions import db
from govqms.notifications import services
from govqms.notifications.messages import KIND_LABELS
from govqms.notifications.models import DeliveryMode
from govqms.notifications.schemas import InboxFilter, MarkReadSchema, SettingsSchema

bp = Blueprint("notifications", __name__, url_prefix="/inbox", template_folder="templates")


@bp.app_context_processor
def _unread():
    def unread_notifications() -> int:
        """Counted once per page, only when the page shows the navigation to a signed-in user."""
        return services.unread_count(current_user) if current_user.is_authenticated else 0

    return {"unread_notifications": unread_notifications}


def link_of(notification) -> str | None:
    if not notification.link_endpoint:
        return None
    try:
        return url_for(notification.link_endpoint, **notification.link_args)
    except BuildError:  # the page it led to no longer exists
        return None


@bp.route("/")
@login_required
def index():
    args = list_args(InboxFilter)
    unread_only = args["unread"]
    page = services.inbox_page(current_user, args, current_app.config["PAGE_SIZE"])
    return render_template("notifications/index.html", page=page, unread_only=unread_only,
                           text_of=services.text_of, KIND_LABELS=KIND_LABELS)


@bp.route("/<int:notification_id>")
@login_required
def open_(notification_id: int):
    """Mark one read and go where it leads."""
    notification = services.own_notification(current_user, notification_id)
    if notification is None:
        abort(404)
    services.mark_read(current_user, [notification.id])
    db.session.commit()
    return redirect(link_of(notification) or url_for("notifications.index"))


@bp.route("/read", methods=["POST"])
@login_required
def mark_read():
    try:
        data = MarkReadSchema().load({"ids": request.form.getlist("ids") or None})
    except ValidationError:
        flash(_("Nothing was marked: the selection was not understood."), "danger")
        return redirect(url_for("notifications.index"))
    count = services.mark_read(current_user, data["ids"])
    db.session.commit()
    flash(_("%(n)s notification(s) marked read.", n=count), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    errors, status = {}, 200
    if request.method == "POST":
        try:
            data = SettingsSchema().load(request.form.to_dict())
        except ValidationError as err:
            errors, status = first_errors(err.messages), 400
        else:
            services.set_mode(current_user, DeliveryMode(data["mode"]))
            db.session.commit()
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for("notifications.index"))
    return render_template("notifications/settings.html", errors=errors, mode=current_user.notify_mode,
                           mail=mail_configured()), status
