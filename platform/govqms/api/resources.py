"""The resources of ``/api/v1/``: each reads through the same services as the page that shows it."""
from __future__ import annotations

from flask import abort, g, url_for
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import selectinload

from govqms.api.core import (
    PageArgs,
    agency_blueprint,
    etag_of,
    jurisdiction_blueprint,
    page_schema,
    paged,
    require_match,
    token_blueprint,
)
from govqms.api.idempotency import idempotent
from govqms.core.clock import today
from govqms.core.listing import ListPage
from govqms.core.schemas import DATE_RANGE, TrimmedString, length
from govqms.extensions import db
from govqms.improvement.models import NcSource

# --- the token ----------------------------------------------------------------------------------------

token_api = token_blueprint("api_token", __name__, "/token", description="The token a request presents.")


class TokenOut(Schema):
    name = fields.String()
    access = fields.String(metadata={"description": "read, or write (read and write)"})
    agency = fields.String(allow_none=True, metadata={"description": "the slug of the agency it reaches"})
    jurisdiction = fields.String(allow_none=True, metadata={"description": "the code of the jurisdiction"})
    expires_at = fields.DateTime()
    user = fields.String(metadata={"description": "whose token it is (email)"})


@token_api.route("")
@token_api.response(200, TokenOut)
def token_info():
    """What the token reaches, what it may do and until when."""
    token = g.api_token
    return {"name": token.name, "access": token.access, "agency": token.agency.slug if token.agency else None,
            "jurisdiction": token.jurisdiction.code if token.jurisdiction else None,
            "expires_at": token.expires_at, "user": token.user.email}


# --- an agency ----------------------------------------------------------------------------------------

agency_api = agency_blueprint("api_agency", __name__, description="An agency's records, read through its token.")


class CheckOut(Schema):
    rule = fields.String()
    label = fields.String()
    basis = fields.String()
    result = fields.String(metadata={"description": "ok, due_soon, overdue, not_applicable…"})
    reason = fields.String()
    due = fields.String(allow_none=True, metadata={"description": "ISO date"})
    records = fields.List(fields.Dict())


class StatusOut(Schema):
    agency = fields.String()
    name = fields.String()
    on = fields.String(metadata={"description": "the day judged (ISO date)"})
    level = fields.String(allow_none=True)
    rule_set = fields.String()
    edition = fields.String(allow_none=True)
    checks = fields.List(fields.Nested(CheckOut))


@agency_api.route("/status")
@agency_api.response(200, StatusOut)
def agency_status():
    """The computed compliance status of the agency today, with the reason of each check."""
    from govqms.compliance.engine import evaluate
    from govqms.compliance.services import status_as_dict

    if not g.tenant.exists_on(today()):
        abort(404, "The agency did not exist on that day.")
    return status_as_dict(g.tenant, evaluate([g.tenant.id])[g.tenant.id])


class ActionOut(Schema):
    id = fields.Integer()
    description = fields.String()
    owner = fields.String(allow_none=True)
    due_on = fields.Date()
    status = fields.String()
    done_on = fields.Date(allow_none=True)
    overdue = fields.Boolean()
    nonconformity_id = fields.Integer(allow_none=True)


def action_out(action) -> dict:
    return {"id": action.id, "description": action.description, "owner": action.owner.name if action.owner else None,
            "due_on": action.due_on, "status": action.status, "done_on": action.done_on,
            "overdue": action.status == "open" and action.due_on < today(), "nonconformity_id": action.nonconformity_id}


class NonconformityOut(Schema):
    id = fields.Integer()
    source = fields.String()
    found_on = fields.Date()
    description = fields.String()
    clause = fields.String()
    severity = fields.String()
    status = fields.String()
    due_on = fields.Date(allow_none=True)
    closed_on = fields.Date(allow_none=True)
    actions = fields.List(fields.Nested(ActionOut))
    url = fields.String(metadata={"description": "the nonconformity's page"})


def nonconformity_out(nc) -> dict:
    return {"id": nc.id, "source": nc.source, "found_on": nc.found_on, "description": nc.description,
            "clause": nc.clause, "severity": nc.severity, "status": nc.status, "due_on": nc.due_on,
            "closed_on": nc.closed_on, "actions": [action_out(a) for a in nc.actions],
            "url": url_for("improvement.nonconformity", nc_id=nc.id, tenant_slug=g.tenant.slug, _external=True)}


class NonconformityArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(
        ["not_closed", "open", "analysed", "actions_done", "verified", "closed"]),
        metadata={"description": "of one status, or every one not closed (not_closed)"})
    overdue = fields.Boolean(load_default=False, metadata={"description": "only those with an action overdue"})


@agency_api.route("/nonconformities")
@agency_api.arguments(NonconformityArgs, location="query")
@agency_api.response(200, page_schema("NonconformityPage", NonconformityOut))
def nonconformities(args):
    """The agency's nonconformities with their actions, latest found first."""
    from govqms.improvement.services import nonconformities_page

    page = nonconformities_page(g.tenant.id, {**args, "order": None}, per_page=args["per_page"])
    return paged(NonconformityOut(), page, nonconformity_out)


def _nonconformity_or_404(nc_id: int):
    from govqms.core.web import record_or_404
    from govqms.improvement.models import Nonconformity

    return record_or_404(Nonconformity, nc_id, selectinload(Nonconformity.actions))


@agency_api.route("/nonconformities/<int:nc_id>")
@agency_api.response(200, NonconformityOut, headers={"ETag": {"schema": {"type": "string"}}})
def nonconformity(nc_id: int):
    """One nonconformity with its actions; its ETag is what an update sends back in If-Match."""
    nc = _nonconformity_or_404(nc_id)
    return nonconformity_out(nc), 200, {"ETag": etag_of(nc)}


class AnalysisIn(Schema):
    correction = TrimmedString(load_default="", validate=validate.Length(max=5000))
    root_cause = TrimmedString(required=True, validate=length(10000))


@agency_api.route("/nonconformities/<int:nc_id>/analysis", methods=["PUT"])
@agency_api.arguments(AnalysisIn)
@agency_api.response(200, NonconformityOut)
def analyse_nonconformity(data, nc_id: int):
    """Record the correction and root cause (If-Match: the ETag read; 412 if it changed since)."""
    from govqms.core.permissions import Action
    from govqms.improvement import services

    if not g.access.can(Action.NONCONFORMITIES_MANAGE):
        abort(403, "Your role does not allow analysing nonconformities here.")
    nc = _nonconformity_or_404(nc_id)
    require_match(nc)
    try:
        services.analyse(nc, data["correction"], data["root_cause"])
    except services.ImprovementRefused as refused:
        db.session.rollback()
        abort(409, str(refused))
    db.session.commit()
    return nonconformity_out(nc), 200, {"ETag": etag_of(nc)}


class NonconformityIn(Schema):
    source = fields.String(required=True, validate=validate.OneOf([source.value for source in NcSource]))
    found_on = fields.Date(required=True, validate=DATE_RANGE)
    description = TrimmedString(required=True, validate=length(5000))
    clause = TrimmedString(load_default="", validate=validate.Length(max=16))
    unit_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    due_on = fields.Date(load_default=None, validate=DATE_RANGE)


@agency_api.route("/nonconformities", methods=["POST"])
@idempotent()
@agency_api.arguments(NonconformityIn)
@agency_api.response(201, NonconformityOut)
@agency_api.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "required": False,
                             "schema": {"type": "string", "minLength": 1, "maxLength": 100},
                             "description": "new for each new request; the same for its retries (kept 24 hours)"}])
def raise_nonconformity(data):
    """Record a nonconformity (as the page does: the same service and permission); a retry with the
    same Idempotency-Key records it once."""
    from govqms.core.permissions import Action
    from govqms.improvement import services
    from govqms.tenancy.services import active_units

    if not g.access.can(Action.NONCONFORMITIES_MANAGE):
        abort(403, "Your role does not allow recording nonconformities here.")
    if data["unit_id"] is not None and data["unit_id"] not in {u.id for u in active_units(g.tenant.id)}:
        abort(422, "unit_id is not a unit of the agency.")
    nc = services.raise_nonconformity(g.tenant.id, **data)
    db.session.commit()
    return nonconformity_out(nc)


class ActionArgs(PageArgs):
    overdue = fields.Boolean(load_default=False, metadata={"description": "only the actions past their due date"})
    open = fields.Boolean(load_default=True, metadata={"description": "only the open actions"})


@agency_api.route("/actions")
@agency_api.arguments(ActionArgs, location="query")
@agency_api.response(200, page_schema("ActionPage", ActionOut))
def actions(args):
    """Every action of the agency (corrective actions, risks', reviews' decisions), open ones first
    then by due date."""
    from govqms.improvement.services import actions_page

    page = actions_page(g.tenant.id, g.api_user.id, {"everyone": True, "open_only": args["open"] or args["overdue"],
                                                     "overdue": args["overdue"], "page": args["page"], "order": None},
                        per_page=args["per_page"])
    return paged(ActionOut(), page, action_out)


# --- a jurisdiction -----------------------------------------------------------------------------------

jurisdiction_api = jurisdiction_blueprint("api_jurisdiction", __name__,
                                          description="An overseer's views of a jurisdiction, read-only.")


class RowOut(Schema):
    agency = fields.String()
    name = fields.String()
    kind = fields.String()
    level = fields.String()
    edition = fields.String(allow_none=True)
    declared_on = fields.Date(allow_none=True)
    last_audit = fields.Date(allow_none=True)
    last_review = fields.Date(allow_none=True)
    actions_open = fields.Integer()
    actions_overdue = fields.Integer()
    on_time_rate = fields.Float(allow_none=True)
    satisfaction_rate = fields.Float(allow_none=True)
    checks = fields.Dict(keys=fields.String(), values=fields.String(),
                         metadata={"description": "each check's result, by rule"})


class ComparisonArgs(PageArgs):
    level = fields.String(load_default=None, validate=validate.OneOf(["red", "amber", "green"]))


def row_out(row) -> dict:
    return {"agency": row.tenant.slug, "name": row.tenant.name, "kind": row.tenant.kind, "level": row.level,
            "edition": row.edition, "declared_on": row.declared_on, "last_audit": row.last_audit,
            "last_review": row.last_review, "actions_open": row.actions_open,
            "actions_overdue": row.actions_overdue, "on_time_rate": row.on_time_rate,
            "satisfaction_rate": row.satisfaction_rate,
            "checks": {key: str(check.result) for key, check in row.checks.items()}}


@jurisdiction_api.route("/comparison")
@jurisdiction_api.arguments(ComparisonArgs, location="query")
@jurisdiction_api.response(200, page_schema("ComparisonPage", RowOut))
def comparison_rows(args):
    """Every agency of the jurisdiction side by side today, in Vietnamese order, as the comparison shows them."""
    from govqms.core.text import sort_key
    from govqms.oversight import comparison

    rows = comparison.filtered(comparison.compare(g.jurisdiction), {"level": args["level"]} if args["level"] else {})
    rows = sorted(rows, key=lambda r: sort_key(r.tenant.name))
    return paged(RowOut(), ListPage(rows, args["page"], args["per_page"]), row_out)



blueprints = [token_api, agency_api, jurisdiction_api]
