"""An agency's compliance status: every check with its reason and record, and the due-date calendar."""
from __future__ import annotations

from flask import g, render_template, url_for
from sqlalchemy import select

from govqms.compliance.engine import LEVEL_LABELS, RESULT_LABELS, RULE_LABELS, evaluate
from govqms.compliance.models import ComplianceSnapshot
from govqms.core.permissions import Action
from govqms.core.web import requires, workspace_blueprint
from govqms.documents.services import today
from govqms.extensions import db

bp = workspace_blueprint("compliance", __name__, "/status")


def record_url(ref: tuple[str, int] | None) -> str | None:
    """Where the record a check rests on is shown."""
    if ref is None:
        return None
    kind, record_id = ref
    return {
        "audit": lambda: url_for("audits.detail", audit_id=record_id),
        "review": lambda: url_for("reviews.detail", review_id=record_id),
        "declaration": lambda: url_for("conformity.index") + "#declarations",
        "certificate": lambda: url_for("conformity.index") + "#certificates",
        "legal": lambda: url_for("legal.index"),
        "nonconformity": lambda: url_for("improvement.nonconformity", nc_id=record_id),
        "actions": lambda: url_for("improvement.nonconformities", overdue=1),
        "documents": lambda: url_for("documents.register", overdue=1),
        "data_call": lambda: url_for("agency_data_calls.answer", reply_id=record_id),
    }[kind]()


@bp.route("/")
@requires(Action.IMPROVEMENT_VIEW)
def status():
    tenant = g.tenant
    result = evaluate([tenant.id]).get(tenant.id) if tenant.writable else None
    calendar = sorted((c for c in (result.checks if result else []) if c.due_on and c.due_on >= today()),
                      key=lambda c: c.due_on)
    history = db.session.scalars(select(ComplianceSnapshot).where(ComplianceSnapshot.tenant_id == tenant.id)
                                 .order_by(ComplianceSnapshot.day.desc()).limit(30)).all()
    return render_template("compliance/status.html", status=result, calendar=calendar, history=history,
                           RULE_LABELS=RULE_LABELS, RESULT_LABELS=RESULT_LABELS, LEVEL_LABELS=LEVEL_LABELS,
                           record_url=record_url, today=today())
