"""An agency's compliance status: every check with its reason and record, and the due-date calendar."""
from __future__ import annotations

from flask import g, render_template, url_for
from flask_babel import lazy_gettext as _l

from govqms.compliance import (
    checklist as _checklist,  # noqa: F401  (registers the inspection checklist's suggestions)
    services,
)
from govqms.compliance.engine import LEVEL_LABELS, RESULT_LABELS, RULE_BASIS, RULE_LABELS, evaluate
from govqms.core.clock import today
from govqms.core.permissions import Action
from govqms.core.web import requires
from govqms.tenancy.blueprints import workspace_blueprint

bp = workspace_blueprint("compliance", __name__, "/status")


RECORD_URLS = {
    "audit": lambda record_id: url_for("audits.detail", audit_id=record_id),
    "review": lambda record_id: url_for("reviews.detail", review_id=record_id),
    "declaration": lambda record_id: url_for("conformity.index") + "#declarations",
    "certificate": lambda record_id: url_for("conformity.index") + "#certificates",
    "consultant": lambda record_id: url_for("conformity.index") + "#consultants",
    "legal": lambda record_id: url_for("legal.index"),
    "inspection": lambda record_id: url_for("agency_inspections.index_for_agency"),
    "nonconformity": lambda record_id: url_for("improvement.nonconformity", nc_id=record_id),
    "action": lambda record_id: url_for("improvement.actions", all=1),
    "document": lambda record_id: url_for("documents.detail", document_id=record_id),
    "data_call": lambda record_id: url_for("agency_data_calls.answer", reply_id=record_id),
}
RECORD_WORDS = {"audit": _l("internal audit"), "review": _l("management review"), "declaration": _l("declaration"),
                "certificate": _l("certificate"), "consultant": _l("consultant"), "legal": _l("legal change"),
                "inspection": _l("inspection"), "nonconformity": _l("nonconformity"), "action": _l("action"),
                "document": _l("document"), "data_call": _l("data call")}


def record_url(ref: tuple[str, int] | None) -> str | None:
    """Where the record a check rests on, or counted, is shown."""
    if ref is None:
        return None
    kind, record_id = ref
    return RECORD_URLS[kind](record_id)


@bp.route("/")
@requires(Action.IMPROVEMENT_VIEW)
def status():
    tenant = g.tenant
    result = evaluate([tenant.id]).get(tenant.id) if tenant.exists_on(today()) else None
    calendar = sorted((c for c in (result.checks if result else []) if c.due_on and c.due_on >= today()),
                      key=lambda c: c.due_on)
    history = services.recent_snapshots(tenant.id)
    return render_template("compliance/status.html", status=result, calendar=calendar, history=history,
                           RULE_LABELS=RULE_LABELS, RULE_BASIS=RULE_BASIS, RESULT_LABELS=RESULT_LABELS,
                           LEVEL_LABELS=LEVEL_LABELS, RECORD_WORDS=RECORD_WORDS, record_url=record_url, today=today())
