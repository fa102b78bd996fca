"""A stored PDF's signatures, one by one, and "check again" (after the trust anchors changed, say)."""
from __future__ import annotations

import logging

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from govqms.core.permissions import Action
from govqms.core.web import requires
from govqms.extensions import db
from govqms.signatures import services
from govqms.signatures.models import STATUS_COLOURS, STATUS_LABELS, SignatureStatus
from govqms.tenancy.blueprints import workspace_blueprint

bp = workspace_blueprint("signatures", __name__, "/signatures")

#: Who may have a file checked again: those who upload the files that are checked (documents' drafters,
#: the keepers of reviews and declarations).
CHECKERS = (Action.DOCUMENTS_DRAFT, Action.REVIEWS_MANAGE)


def init_app(app) -> None:
    # The badge macro is imported by other packages' templates, without their context.
    app.jinja_env.globals.update(SIGNATURE_LABELS=STATUS_LABELS, SIGNATURE_COLOURS=STATUS_COLOURS)
    # pyHanko logs each chain it cannot build and each modification it finds, with a traceback: those are
    # results of the check, kept with it, not faults of the platform.
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.ERROR)
    # Read at start-up: a wrong path, or a file that is no certificate, stops the start saying which
    # (services.AnchorError, a ConfigError).
    services.anchors_at(app.config.get("TRUST_ANCHORS"))


def can_check() -> bool:
    return any(g.access.can(action) for action in CHECKERS)


@bp.route("/<digest>")
@requires(Action.WORKSPACE_VIEW)
def detail(digest: str):
    check = services.check_of(g.tenant.id, digest) or abort(404)
    return render_template("signatures/detail.html", check=check, signatures=services.entries(check),
                           outdated=services.outdated(check),
                           anchors=services.trust_anchors(), can_check=can_check())


@bp.route("/<digest>/check", methods=["POST"])
@requires(Action.WORKSPACE_VIEW)
def check_again(digest: str):
    if not can_check():
        abort(403)
    if not services.stored_pdf(g.tenant.id, digest):
        abort(404)
    check = services.request_check(g.tenant.id, digest, again=True)
    db.session.commit()
    flash(_("The signatures were checked again.") if check.status != SignatureStatus.PENDING
          else _("The signatures will be checked in a moment."), "success")
    return redirect(url_for(".detail", digest=digest))
