"""The shell: home page listing the user's agencies and jurisdictions."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required

from govqms.core.activity import ACTION_LABELS
from govqms.core.permissions import ROLE_LABELS
from govqms.tenancy import services
from govqms.tenancy.models import KIND_LABELS, STATUS_LABELS

bp = Blueprint("web", __name__, template_folder="templates")


@bp.app_context_processor
def _labels():
    return {"ROLE_LABELS": ROLE_LABELS, "KIND_LABELS": KIND_LABELS, "STATUS_LABELS": STATUS_LABELS,
            "ACTION_LABELS": ACTION_LABELS}


@bp.route("/favicon.ico")
def favicon():
    # Browsers ask for /favicon.ico on pages without a <link rel="icon"> (the back office).
    return current_app.send_static_file("favicon.svg")


@bp.route("/")
@login_required
def home():
    return render_template(
        "web/home.html",
        memberships=services.memberships_of(current_user),
        oversight=services.oversight_of(current_user),
    )
