"""The agency's records through the API, read-only: what a member reads on the agency's pages, read
through the same services and with the same permissions. Lists are paginated (``page``, ``per_page``
at most 100) and filtered as the pages filter; stored files (a document's revisions, a measurement's
evidence, a declaration's decision, a review's signed minutes) are streamed by the API itself, so a
script follows the links with its token."""
from __future__ import annotations

from io import BytesIO

from flask import abort, g, send_file, url_for
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import selectinload

from govqms.api.core import PageArgs, agency_blueprint, etag_of, page_schema, paged
from govqms.core.clock import today
from govqms.core.listing import ListPage
from govqms.core.permissions import Action
from govqms.core.schemas import TrimmedString
from govqms.core.storage import get_storage
from govqms.core.web import record_or_404
from govqms.documents.models import DocumentKind, DocumentStatus

ETAG = {"ETag": {"schema": {"type": "string"}, "description": "the version read (If-Match of an update)"}}
FILE = {"type": "string", "format": "binary"}
YEAR = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100),
                      metadata={"description": "the year (this year by default)"})


def _require(action: Action) -> None:
    """The page's permission, refused as the page refuses it."""
    if not g.access.can(action):
        abort(403, _("Your role does not allow reading these records here."))


def _year(args: dict) -> int:
    return args.get("year") or today().year


def _in_memory(items: list, args: dict) -> ListPage:
    return ListPage(items, args["page"], args["per_page"])


def _stream(key: str, name: str, mimetype: str | None = None):
    """A stored file as a download, as the pages send it."""
    return send_file(BytesIO(get_storage().get(key)), mimetype=mimetype, as_attachment=True, download_name=name,
                     max_age=0)


def _link(endpoint: str, **values) -> str:
    return url_for(endpoint, tenant_slug=g.tenant.slug, _external=True, **values)


class _With:
    """A record with what its detail adds (its revisions' files, its team…), for the output schema."""

    def __init__(self, record, **extra):
        self._record = record
        self.__dict__.update(extra)

    def __getattr__(self, name: str):
        return getattr(self._record, name)


def _name(user) -> str | None:
    return user.name if user is not None else None


# --- documents ----------------------------------------------------------------------------------

documents_api = agency_blueprint("api_documents", __name__, description=(
    "The document register: documents, their revisions and files (read with the documents permission)."))


class DocumentArgs(PageArgs):
    q = TrimmedString(load_default="", validate=validate.Length(max=200),
                      metadata={"description": "words of the code or title (accents ignored)"})
    kind = fields.String(load_default=None, validate=validate.OneOf([k.value for k in DocumentKind]))
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in DocumentStatus]),
                           metadata={"description": "draft (not yet in force), effective or obsolete"})
    unit_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1),
                             metadata={"description": "the owner unit"})
    review_overdue = fields.Boolean(load_default=False,
                                    metadata={"description": "only those whose periodic review is overdue"})
    sort = fields.String(load_default="code", validate=validate.OneOf(("code", "title", "effective", "review")))


class FileOut(Schema):
    id = fields.Integer()
    filename = fields.String()
    mimetype = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    url = fields.String(metadata={"description": "the file, streamed with the token"})


class RevisionOut(Schema):
    id = fields.Integer()
    number = fields.Integer()
    status = fields.String(metadata={"description": "draft, in_review, approved, effective or superseded"})
    change_summary = fields.String()
    effective_on = fields.Date(allow_none=True)
    drafted_by = fields.String(allow_none=True)
    reviewed_by = fields.String(allow_none=True)
    approved_by = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    review_comment = fields.String(allow_none=True)
    files = fields.List(fields.Nested(FileOut))


def _revision(revision) -> dict:
    names = {"drafted_by": _name(revision.drafter), "reviewed_by": _name(revision.reviewer),
             "approved_by": _name(revision.approver)}
    files = [{"id": f.id, "filename": f.filename, "mimetype": f.mimetype, "size": f.size, "sha256": f.sha256,
              "url": _link("api_documents.document_file", document_id=revision.document_id, revision_id=revision.id,
                           file_id=f.id)} for f in revision.files]
    kept = ("id", "number", "status", "change_summary", "effective_on", "submitted_at", "reviewed_at", "approved_at",
            "review_comment")
    return {**{key: getattr(revision, key) for key in kept}, **names, "files": files}


class DocumentOut(Schema):
    id = fields.Integer()
    code = fields.String()
    title = fields.String()
    kind = fields.String()
    status = fields.String(metadata={"description": "draft (not yet in force), effective or obsolete"})
    owner_unit = fields.Function(lambda d: d.owner_unit.name if d.owner_unit else None, allow_none=True)
    review_interval_months = fields.Integer()
    effective_on = fields.Date(allow_none=True)
    last_reviewed_on = fields.Date(allow_none=True)
    next_review_on = fields.Date(allow_none=True)
    review_overdue = fields.Function(lambda d: d.next_review_on is not None and d.next_review_on < today())
    obsolete_on = fields.Date(allow_none=True)
    current_revision = fields.Function(
        lambda d: next((r.number for r in d.revisions if r.id == d.current_revision_id), None), allow_none=True,
        metadata={"description": "the number of the revision in force"})
    url = fields.Function(lambda d: _link("api_documents.document", document_id=d.id))


class PeriodicReviewOut(Schema):
    reviewed_on = fields.Date()
    outcome = fields.String(metadata={"description": "no_change, or revise (a new draft was opened)"})
    note = fields.String()
    reviewer = fields.Function(lambda r: _name(r.reviewer), allow_none=True)


class DocumentDetailOut(DocumentOut):
    revisions = fields.List(fields.Nested(RevisionOut), attribute="revisions_out")
    periodic_reviews = fields.List(fields.Nested(PeriodicReviewOut))


@documents_api.route("/documents")
@documents_api.arguments(DocumentArgs, location="query")
@documents_api.response(200, page_schema("DocumentPage", DocumentOut))
def documents(args):
    """The register, filtered and sorted as its page is (by code by default)."""
    from govqms.documents import services

    _require(Action.DOCUMENTS_VIEW)
    page = services.register_page(g.tenant.id, args, per_page=args["per_page"])
    return paged(DocumentOut(), page, lambda d: d)


def _document_or_404(document_id: int):
    from govqms.documents.models import Document, Revision

    return record_or_404(Document, document_id, selectinload(Document.owner_unit), selectinload(
        Document.revisions).selectinload(Revision.files), selectinload(Document.revisions).selectinload(
        Revision.drafter), selectinload(Document.revisions).selectinload(Revision.reviewer),
        selectinload(Document.revisions).selectinload(Revision.approver))


@documents_api.route("/documents/<int:document_id>")
@documents_api.response(200, DocumentDetailOut, headers=ETAG)
def document(document_id: int):
    """One document with every revision (each with its files and their download links) and its periodic
    reviews."""
    from govqms.documents import services

    _require(Action.DOCUMENTS_VIEW)
    found = _document_or_404(document_id)
    out = _With(found, revisions_out=[_revision(r) for r in found.revisions],
                periodic_reviews=services.reviews_of(found))
    return out, 200, {"ETag": etag_of(found)}


@documents_api.route("/documents/<int:document_id>/revisions/<int:revision_id>/files/<int:file_id>")
@documents_api.response(200, FILE, content_type="application/octet-stream", description="The stored file")
def document_file(document_id: int, revision_id: int, file_id: int):
    """A file of a revision, as stored (its name in Content-Disposition, its SHA-256 as its ETag)."""
    from govqms.documents import services

    _require(Action.DOCUMENTS_VIEW)
    revision = services.revision_of(_document_or_404(document_id), revision_id) or abort(404)
    stored = next((f for f in revision.files if f.id == file_id), None) or abort(404)
    response = _stream(stored.storage_key, stored.filename, stored.mimetype)
    response.set_etag(stored.sha256)
    return response


# --- catalogues: procedures, records, legal changes ----------------------------------------------

catalogues_api = agency_blueprint("api_catalogues", __name__, description=(
    "The catalogues: administrative procedures, records kept, and the legal change log."))


class ProcedureArgs(PageArgs):
    q = TrimmedString(load_default=None, validate=validate.Length(max=200),
                      metadata={"description": "words of the code, name or field (accents ignored)"})
    field = TrimmedString(load_default=None, validate=validate.Length(max=255))
    uncovered = fields.Boolean(load_default=False, metadata={"description": "only those no work procedure covers"})
    archived = fields.Boolean(load_default=False, metadata={"description": "the archived ones instead"})


class DocumentRefOut(Schema):
    id = fields.Integer()
    code = fields.String()
    title = fields.String()
    url = fields.Function(lambda d: _link("api_documents.document", document_id=d.id))


class ProcedureOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    field = fields.String()
    work_procedure = fields.Nested(DocumentRefOut, allow_none=True,
                                   metadata={"description": "the work procedure covering it"})
    archived = fields.Function(lambda p: p.archived_at is not None)


@catalogues_api.route("/procedures")
@catalogues_api.arguments(ProcedureArgs, location="query")
@catalogues_api.response(200, page_schema("ProcedurePage", ProcedureOut))
def procedures(args):
    """The catalogue of administrative procedures, by field then code."""
    from govqms.procedures import services

    _require(Action.DOCUMENTS_VIEW)
    return paged(ProcedureOut(), services.procedures_page(g.tenant.id, args, per_page=args["per_page"]), lambda p: p)


class ArchivedArgs(PageArgs):
    archived = fields.Boolean(load_default=False, metadata={"description": "the archived ones instead"})


class RecordEntryOut(Schema):
    id = fields.Integer()
    name = fields.String()
    document = fields.Nested(DocumentRefOut, allow_none=True, metadata={"description": "the form or procedure"})
    location = fields.String()
    keeper_unit = fields.Function(lambda e: e.keeper_unit.name if e.keeper_unit else None, allow_none=True)
    keeper = fields.String()
    retention = fields.String()
    note = fields.String()
    archived = fields.Function(lambda e: e.archived_at is not None)


@catalogues_api.route("/records")
@catalogues_api.arguments(ArchivedArgs, location="query")
@catalogues_api.response(200, page_schema("RecordEntryPage", RecordEntryOut))
def records(args):
    """The records catalogue: what is kept, where, by whom and how long, by name."""
    from govqms.records import services

    _require(Action.DOCUMENTS_VIEW)
    return paged(RecordEntryOut(), services.entries_page(g.tenant.id, args, per_page=args["per_page"]), lambda e: e)


class LegalChangeOut(Schema):
    id = fields.Integer()
    number = fields.String()
    title = fields.String()
    effective_on = fields.Date()
    deadline = fields.Date(metadata={"description": "the day the QMS must be updated by"})
    qms_updated_on = fields.Date(allow_none=True)
    status = fields.String(metadata={"description": "applied, late, pending or overdue (today)"})
    note = fields.String()
    documents = fields.List(fields.Nested(DocumentRefOut), metadata={"description": "the documents it affects"})


def _legal_change(change) -> dict:
    from govqms.legal import services

    return {"id": change.id, "number": change.number, "title": change.title, "effective_on": change.effective_on,
            "deadline": services.deadline(change), "qms_updated_on": change.qms_updated_on,
            "status": str(services.status(change, today())), "note": change.note,
            "documents": [link.document for link in change.links if link.document is not None]}


@catalogues_api.route("/legal-changes")
@catalogues_api.arguments(PageArgs, location="query")
@catalogues_api.response(200, page_schema("LegalChangePage", LegalChangeOut))
def legal_changes(args):
    """The legal change log, newest first, each with its deadline and whether the QMS followed in time."""
    from govqms.legal import services

    _require(Action.DOCUMENTS_VIEW)
    return paged(LegalChangeOut(), services.changes_page(g.tenant.id, args, per_page=args["per_page"]),
                 _legal_change)


# --- objectives and performance --------------------------------------------------------------------

objectives_api = agency_blueprint("api_objectives", __name__, description=(
    "Quality objectives with their computed valuation, service results and satisfaction surveys."))


class YearArgs(PageArgs):
    year = YEAR


class JudgementOut(Schema):
    status = fields.String(metadata={"description": "on_track, at_risk or missed, today"})
    reason = fields.String()
    latest_value = fields.Float(allow_none=True)
    latest_period = fields.String(allow_none=True)
    achievement = fields.Float(allow_none=True, metadata={"description": "percent of the target, 0–100"})


class ObjectiveOut(Schema):
    id = fields.Integer()
    year = fields.Integer()
    unit = fields.String(allow_none=True, metadata={"description": "none: the whole agency's objective"})
    statement = fields.String()
    indicator = fields.String()
    comparator = fields.String()
    target = fields.Float()
    unit_of_measure = fields.String()
    frequency = fields.String()
    source = fields.String(metadata={"description": "typed, or computed: on_time_rate, satisfaction_rate"})
    owner = fields.String(allow_none=True)
    plan = fields.String()
    judgement = fields.Nested(JudgementOut)
    url = fields.String()


class MeasurementOut(Schema):
    value = fields.Float()
    note = fields.String()
    evidence_name = fields.String(allow_none=True)
    evidence = fields.String(allow_none=True, metadata={"description": "the evidence file, streamed with the token"})


class PeriodOut(Schema):
    index = fields.Integer()
    label = fields.String()
    first_day = fields.Date()
    last_day = fields.Date()
    value = fields.Float(allow_none=True, metadata={"description": "the value counted today"})
    measurement = fields.Nested(MeasurementOut, allow_none=True, metadata={"description": "typed objectives"})


class EvaluationOut(Schema):
    kind = fields.String(metadata={"description": "half_year or year_end"})
    evaluated_on = fields.Date()
    status = fields.String()
    value = fields.Float(allow_none=True)
    achievement = fields.Float(allow_none=True)
    comment = fields.String()


class ObjectiveDetailOut(ObjectiveOut):
    periods = fields.List(fields.Nested(PeriodOut))
    evaluations = fields.List(fields.Nested(EvaluationOut))


def _objective(objective, judgement) -> dict:
    return {"id": objective.id, "year": objective.year, "unit": objective.unit.name if objective.unit else None,
            "statement": objective.statement, "indicator": objective.indicator, "comparator": objective.comparator,
            "target": objective.target, "unit_of_measure": objective.unit_of_measure,
            "frequency": objective.frequency, "source": objective.source, "owner": _name(objective.owner),
            "plan": objective.plan,
            "judgement": {"status": str(judgement.status), "reason": str(judgement.reason),
                          "latest_value": judgement.latest_value, "achievement": judgement.achievement,
                          "latest_period": judgement.latest_period.label(objective.frequency)
                          if judgement.latest_period else None},
            "url": _link("api_objectives.objective", objective_id=objective.id)}


@objectives_api.route("/objectives")
@objectives_api.arguments(YearArgs, location="query")
@objectives_api.response(200, page_schema("ObjectivePage", ObjectiveOut))
def objectives(args):
    """The year's objectives (the whole agency's first, then by unit), each judged today as its page
    judges it."""
    from govqms.objectives import services
    from govqms.objectives.valuation import valuate

    _require(Action.OBJECTIVES_VIEW)
    year = _year(args)
    items = services.objectives_of_year(g.tenant.id, year)
    judgements = valuate([g.tenant.id], year, today())[g.tenant.id].judgements()
    return paged(ObjectiveOut(), _in_memory(items, args), lambda o: _objective(o, judgements[o.id]))


@objectives_api.route("/objectives/<int:objective_id>")
@objectives_api.response(200, ObjectiveDetailOut, headers=ETAG)
def objective(objective_id: int):
    """One objective: each period of its year with the value counted today (typed ones with their
    measurement and evidence), its judgement and its evaluations."""
    from govqms.objectives import rules, services
    from govqms.objectives.models import Objective
    from govqms.objectives.valuation import valuate

    _require(Action.OBJECTIVES_VIEW)
    found = record_or_404(Objective, objective_id, selectinload(Objective.unit), selectinload(Objective.owner),
                          selectinload(Objective.measurements))
    valued = valuate([g.tenant.id], found.year, today(), objective_ids=[found.id])[g.tenant.id].objectives[found.id]
    measured = {m.period_index: m for m in found.measurements}
    periods = [{"index": p.index, "label": p.label(found.frequency), "first_day": p.first_day,
                "last_day": p.last_day, "value": valued.values.get(p.index),
                "measurement": _measurement(found, measured[p.index]) if p.index in measured else None}
               for p in rules.periods(found.year, found.frequency)]
    out = {**_objective(found, valued.judgement()), "periods": periods,
           "evaluations": list(services.evaluations_of(found).values())}
    return out, 200, {"ETag": etag_of(found)}


def _measurement(objective, measurement) -> dict:
    return {"value": measurement.value, "note": measurement.note, "evidence_name": measurement.evidence_name,
            "evidence": _link("api_objectives.evidence", objective_id=objective.id, measurement_id=measurement.id)
            if measurement.evidence_key else None}


@objectives_api.route("/objectives/<int:objective_id>/measurements/<int:measurement_id>/evidence")
@objectives_api.response(200, FILE, content_type="application/octet-stream", description="The evidence file")
def evidence(objective_id: int, measurement_id: int):
    """The evidence attached to a measurement."""
    from govqms.objectives.models import Measurement, Objective

    _require(Action.OBJECTIVES_VIEW)
    found = record_or_404(Objective, objective_id)
    measurement = record_or_404(Measurement, measurement_id)
    if measurement.objective_id != found.id or measurement.evidence_key is None:
        abort(404)
    return _stream(measurement.evidence_key, measurement.evidence_name, measurement.evidence_mimetype)


class ResultArgs(YearArgs):
    field = TrimmedString(load_default=None, validate=validate.Length(max=255),
                          metadata={"description": "one field's results (empty: the agency as a whole)"})
    procedure_code = TrimmedString(load_default=None, validate=validate.Length(max=64),
                                   metadata={"description": "one procedure's results (empty: not by procedure)"})


class FiguresOut(Schema):
    received = fields.Integer()
    resolved_early = fields.Integer()
    resolved_on_time = fields.Integer()
    resolved_late = fields.Integer()
    pending = fields.Integer()
    on_time_rate = fields.Float(allow_none=True, metadata={"description": "percent resolved early or on time"})


class ServiceResultOut(FiguresOut):
    id = fields.Integer()
    period = fields.Function(lambda r: r.period.label())
    period_start = fields.Date()
    period_end = fields.Date()
    field = fields.String(metadata={"description": "empty for the agency as a whole"})
    procedure_code = fields.String()
    on_time_rate = fields.Function(lambda r: _on_time(r.resolved_early, r.resolved_on_time, r.resolved_late),
                                   allow_none=True)


def _on_time(early: int, on_time: int, late: int) -> float | None:
    from govqms.performance.models import on_time_rate

    return on_time_rate(early, on_time, late)


@objectives_api.route("/service-results")
@objectives_api.arguments(ResultArgs, location="query")
@objectives_api.response(200, page_schema("ServiceResultPage", ServiceResultOut))
def service_results(args):
    """The results of the year as reported, one per period and field or procedure (or the agency as a
    whole): by period, then field and procedure."""
    from govqms.performance import services

    _require(Action.OBJECTIVES_VIEW)
    page = services.results_page(g.tenant.id, {**args, "year": _year(args)}, per_page=args["per_page"])
    return paged(ServiceResultOut(), page, lambda r: r)


class PeriodTotalOut(FiguresOut):
    period = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    reports = fields.Integer(metadata={"description": "the results summed (fields, procedures)"})


@objectives_api.route("/service-results/periods")
@objectives_api.arguments(YearArgs, location="query")
@objectives_api.response(200, page_schema("ServicePeriodPage", PeriodTotalOut))
def service_periods(args):
    """The totals of each reporting period of the year, every field and procedure together, as the
    results page lists them."""
    from govqms.performance import services

    _require(Action.OBJECTIVES_VIEW)

    def row(item):
        period, received, early, on_time, late, pending, count = item
        return {"period": period.label(), "period_start": period.start, "period_end": period.end,
                "received": received or 0, "resolved_early": early or 0, "resolved_on_time": on_time or 0,
                "resolved_late": late or 0, "pending": pending or 0,
                "on_time_rate": _on_time(early or 0, on_time or 0, late or 0), "reports": count}

    return paged(PeriodTotalOut(), _in_memory(services.results_of_year(g.tenant.id, _year(args)), args), row)


class FieldOut(Schema):
    field = fields.String()
    received = fields.Integer()
    resolved_early = fields.Integer(attribute="early")
    resolved_on_time = fields.Integer(attribute="on_time")
    resolved_late = fields.Integer(attribute="late")
    pending = fields.Integer()
    on_time_rate = fields.Float(allow_none=True)
    procedures_reported = fields.Integer()
    procedures_in_catalogue = fields.Integer()


@objectives_api.route("/service-results/fields")
@objectives_api.arguments(YearArgs, location="query")
@objectives_api.response(200, page_schema("ServiceFieldPage", FieldOut))
def service_fields(args):
    """The year's dossiers of each field (lĩnh vực) reported or in the procedures catalogue, in
    Vietnamese order."""
    from govqms.performance import services

    _require(Action.OBJECTIVES_VIEW)
    return paged(FieldOut(), _in_memory(services.fields_of_year(g.tenant.id, _year(args)), args), lambda f: f)


class SurveyOut(Schema):
    id = fields.Integer()
    year = fields.Integer()
    month = fields.Integer()
    responses = fields.Integer()
    satisfied = fields.Integer()
    rate = fields.Function(lambda s: _satisfaction(s.responses, s.satisfied), allow_none=True,
                           metadata={"description": "percent satisfied"})
    note = fields.String()


def _satisfaction(responses: int, satisfied: int) -> float | None:
    from govqms.performance.models import satisfaction_rate

    return satisfaction_rate(responses, satisfied)


@objectives_api.route("/satisfaction-surveys")
@objectives_api.arguments(YearArgs, location="query")
@objectives_api.response(200, page_schema("SurveyPage", SurveyOut))
def satisfaction_surveys(args):
    """The year's monthly satisfaction surveys, by month."""
    from govqms.performance import services

    _require(Action.OBJECTIVES_VIEW)
    return paged(SurveyOut(), _in_memory(services.surveys_of_year(g.tenant.id, _year(args)), args), lambda s: s)


# --- audits, risks, management reviews ----------------------------------------------------------

improvement_api = agency_blueprint("api_improvement", __name__, description=(
    "Internal audits with their checklists and findings, the risk register and management reviews."))


class AuditOut(Schema):
    id = fields.Integer()
    year = fields.Integer()
    title = fields.String()
    status = fields.String(metadata={"description": "planned, in_progress or reported"})
    planned_start = fields.Date()
    planned_end = fields.Date()
    actual_start = fields.Date(allow_none=True)
    actual_end = fields.Date(allow_none=True)
    clauses = fields.List(fields.String())
    lead_auditor = fields.Function(lambda a: _name(a.lead_auditor), allow_none=True)
    url = fields.Function(lambda a: _link("api_improvement.audit", audit_id=a.id))


class ChecklistItemOut(Schema):
    position = fields.Integer()
    clause = fields.String()
    question = fields.String()
    result = fields.String()


class FindingOut(Schema):
    id = fields.Integer()
    type = fields.String(metadata={"description": "strength, major_nc, minor_nc, observation or opportunity"})
    clause = fields.String()
    unit = fields.Function(lambda f: f.unit.name if f.unit else None, allow_none=True)
    description = fields.String()
    evidence = fields.String()
    nonconformity_id = fields.Integer(allow_none=True, metadata={"description": "the nonconformity it opened"})


class AuditDetailOut(AuditOut):
    conclusion = fields.String()
    team = fields.List(fields.String(), metadata={"description": "the auditors besides the lead"})
    units = fields.List(fields.String(), metadata={"description": "the units in scope"})
    processes = fields.List(fields.Nested(DocumentRefOut), metadata={"description": "the processes in scope"})
    checklist = fields.List(fields.Nested(ChecklistItemOut))
    findings = fields.List(fields.Nested(FindingOut))


@improvement_api.route("/audits")
@improvement_api.arguments(YearArgs, location="query")
@improvement_api.response(200, page_schema("AuditPage", AuditOut))
def audits(args):
    """The audit programme of the year, by planned start."""
    from govqms.audits import services

    _require(Action.IMPROVEMENT_VIEW)
    return paged(AuditOut(), _in_memory(services.audits_of_year(g.tenant.id, _year(args)), args), lambda a: a)


@improvement_api.route("/audits/<int:audit_id>")
@improvement_api.response(200, AuditDetailOut, headers=ETAG)
def audit(audit_id: int):
    """One audit: scope, team, checklist with its results, findings (and the nonconformities they opened)."""
    from govqms.audits import services
    from govqms.audits.models import Audit, Finding
    from govqms.competence.services import qualified_auditors

    _require(Action.IMPROVEMENT_VIEW)
    found = record_or_404(Audit, audit_id, selectinload(Audit.lead_auditor), selectinload(Audit.checklist),
                          selectinload(Audit.findings).selectinload(Finding.unit))
    units = services.units_in_scope(found)
    out = _With(found, processes=services.processes_of(found),
                team=[u.name for u in qualified_auditors(g.tenant.id) if u.id in found.team_ids],
                units=[units[i].name for i in found.unit_ids if i in units])
    return out, 200, {"ETag": etag_of(found)}


class RiskActionOut(Schema):
    id = fields.Integer()
    description = fields.String()
    owner = fields.Function(lambda a: _name(a.owner), allow_none=True)
    due_on = fields.Date()
    status = fields.String()
    done_on = fields.Date(allow_none=True)
    overdue = fields.Function(lambda a: a.overdue(today()))


class RiskOut(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "risk or opportunity"})
    description = fields.String()
    process = fields.String()
    unit = fields.Function(lambda r: r.unit.name if r.unit else None, allow_none=True)
    likelihood = fields.Integer()
    impact = fields.Integer()
    level = fields.Integer(metadata={"description": "likelihood × impact"})
    band = fields.String(metadata={"description": "high (15+), medium (8+) or low"})
    treatment = fields.String()
    actions = fields.List(fields.Nested(RiskActionOut))


@improvement_api.route("/risks")
@improvement_api.arguments(PageArgs, location="query")
@improvement_api.response(200, page_schema("RiskPage", RiskOut))
def risks(args):
    """The register of risks and opportunities, highest level first, with their actions."""
    from govqms.improvement import services

    _require(Action.IMPROVEMENT_VIEW)
    return paged(RiskOut(), _in_memory(services.risk_register(g.tenant.id), args), lambda r: r)


class ReviewOut(Schema):
    id = fields.Integer()
    year = fields.Integer()
    meeting_on = fields.Date()
    held_on = fields.Date(allow_none=True, metadata={"description": "empty while only planned"})
    chair = fields.String()
    effectiveness_confirmed = fields.Boolean()
    confirmed_on = fields.Date(allow_none=True)
    url = fields.Function(lambda r: _link("api_improvement.review", review_id=r.id))


class DecisionOut(RiskActionOut):
    category = fields.String(allow_none=True, metadata={"description": "improvement, qms_change or resources"})


class ReviewDetailOut(ReviewOut):
    attendees = fields.String()
    inputs = fields.Dict(metadata={"description": "the inputs compiled from the records, by section (a snapshot)"})
    inputs_compiled_on = fields.Date(allow_none=True)
    notes = fields.Dict(metadata={"description": "the meeting's notes on each input section"})
    conclusion = fields.String()
    confirmed_by = fields.Function(lambda r: _name(r.confirmed_by), allow_none=True)
    decisions = fields.List(fields.Nested(DecisionOut))
    signed_minutes = fields.Function(
        lambda r: _link("api_improvement.signed_minutes", review_id=r.id) if r.signed_minutes_key else None,
        allow_none=True, metadata={"description": "the minutes signed by the chair (PDF), streamed with the token"})


@improvement_api.route("/management-reviews")
@improvement_api.arguments(PageArgs, location="query")
@improvement_api.response(200, page_schema("ReviewPage", ReviewOut))
def reviews(args):
    """The management reviews, latest meeting first."""
    from govqms.reviews import services

    _require(Action.IMPROVEMENT_VIEW)
    return paged(ReviewOut(), _in_memory(services.reviews_of(g.tenant.id), args), lambda r: r)


def _review_or_404(review_id: int):
    from govqms.reviews.models import ManagementReview

    return record_or_404(ManagementReview, review_id, selectinload(ManagementReview.confirmed_by))


@improvement_api.route("/management-reviews/<int:review_id>")
@improvement_api.response(200, ReviewDetailOut, headers=ETAG)
def review(review_id: int):
    """One management review: its compiled inputs, the meeting's notes, conclusion and decisions."""
    from govqms.reviews import services

    _require(Action.IMPROVEMENT_VIEW)
    found = _review_or_404(review_id)
    return _With(found, decisions=services.decisions_of(found)), 200, {"ETag": etag_of(found)}


@improvement_api.route("/management-reviews/<int:review_id>/signed-minutes")
@improvement_api.response(200, FILE, content_type="application/pdf", description="The signed minutes")
def signed_minutes(review_id: int):
    """The minutes signed digitally by the chair."""
    _require(Action.IMPROVEMENT_VIEW)
    found = _review_or_404(review_id)
    if found.signed_minutes_key is None:
        abort(404)
    return _stream(found.signed_minutes_key, found.signed_minutes_name or "minutes.pdf", "application/pdf")


# --- conformity ---------------------------------------------------------------------------------

conformity_api = agency_blueprint("api_conformity", __name__, description=(
    "Declarations of conformity (with their decision files) and certificates with their external audits."))


class DeclarationOut(Schema):
    id = fields.Integer()
    decision_number = fields.String()
    decided_on = fields.Date()
    edition = fields.String(metadata={"description": "the edition of TCVN ISO 9001 declared"})
    scope_note = fields.String()
    procedure_ids = fields.Function(lambda d: sorted(p.procedure_id for p in d.procedures),
                                    metadata={"description": "the administrative procedures in its scope"})
    dost_notified_on = fields.Date(allow_none=True)
    posted_on = fields.Date(allow_none=True)
    published_on = fields.Date(allow_none=True)
    file_name = fields.String(allow_none=True)
    file = fields.Function(
        lambda d: _link("api_conformity.declaration_file", declaration_id=d.id) if d.file_key else None,
        allow_none=True, metadata={"description": "the decision, streamed with the token"})


@conformity_api.route("/declarations")
@conformity_api.arguments(PageArgs, location="query")
@conformity_api.response(200, page_schema("DeclarationPage", DeclarationOut))
def declarations(args):
    """The declarations not archived, newest first."""
    from govqms.conformity import services

    _require(Action.IMPROVEMENT_VIEW)
    return paged(DeclarationOut(), _in_memory(services.overview(g.tenant.id).declarations, args), lambda d: d)


@conformity_api.route("/declarations/<int:declaration_id>/file")
@conformity_api.response(200, FILE, content_type="application/octet-stream", description="The decision file")
def declaration_file(declaration_id: int):
    """The decision of a declaration, as uploaded."""
    from govqms.conformity.models import Declaration

    _require(Action.IMPROVEMENT_VIEW)
    found = record_or_404(Declaration, declaration_id)
    if found.file_key is None:
        abort(404)
    return _stream(found.file_key, found.file_name)


class ExternalAuditOut(Schema):
    kind = fields.String(metadata={"description": "initial, surveillance, recertification, transition…"})
    planned_on = fields.Date()
    held_on = fields.Date(allow_none=True)
    result = fields.String()


class CertificateOut(Schema):
    id = fields.Integer()
    body = fields.String(metadata={"description": "the certification body"})
    number = fields.String()
    edition = fields.String()
    scope = fields.String()
    issued_on = fields.Date()
    expires_on = fields.Date()
    ended_on = fields.Date(allow_none=True)
    end_reason = fields.String(allow_none=True, metadata={"description": "withdrawn or not_renewed"})
    in_force = fields.Function(lambda c: c.issued_on <= today() <= c.expires_on
                               and (c.ended_on is None or c.ended_on > today()))
    audits = fields.List(fields.Nested(ExternalAuditOut))


@conformity_api.route("/certificates")
@conformity_api.arguments(PageArgs, location="query")
@conformity_api.response(200, page_schema("CertificatePage", CertificateOut))
def certificates(args):
    """The certificates, newest first, each with the audits of its certification body."""
    from govqms.conformity import services

    _require(Action.IMPROVEMENT_VIEW)
    return paged(CertificateOut(), _in_memory(services.overview(g.tenant.id).certificates, args), lambda c: c)


blueprints = [documents_api, catalogues_api, objectives_api, improvement_api, conformity_api]
