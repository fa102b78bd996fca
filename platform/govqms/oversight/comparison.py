"""The comparison of every agency of a jurisdiction, for the province (DOST) and ministry views.

Everything is loaded for all agencies at once: the compliance engine's facts, and the year's
objectives, measurements, service results and surveys grouped by agency, so the page costs the
same number of queries for 10 agencies as for 300.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, select

from govqms.compliance.engine import RULES, Check, Level, Result, evaluate

RULE_KEYS = {key for key, _label, _rule in RULES}
from govqms.core.text import sort_key
from govqms.documents.services import today
from govqms.extensions import db
from govqms.objectives import rules as objective_rules
from govqms.objectives.models import Measurement, Objective, Source
from govqms.performance.models import SatisfactionSurvey, ServiceResult, on_time_rate, satisfaction_rate
from govqms.tenancy.models import Jurisdiction, Tenant, TenantStatus
from govqms.tenancy.services import in_scope_on, subtree_tenants_query


@dataclass
class Row:
    tenant: Tenant
    level: str  # a compliance Level, or "merged" for history kept until the merger date
    checks: dict[str, Check]
    last_audit: dt.date | None = None
    last_review: dt.date | None = None
    declared_on: dt.date | None = None
    declared_edition: str | None = None
    certificate_expires: dt.date | None = None
    actions_open: int = 0
    actions_overdue: int = 0
    confirmed_years: frozenset[int] = frozenset()  # years the head confirmed the QMS effective
    objectives_total: int = 0
    objectives_on_track: int = 0
    on_time_rate: float | None = None
    satisfaction_rate: float | None = None

    @property
    def next_external(self) -> dt.date | None:
        """Next surveillance audit or recertification, for certified agencies."""
        return self.checks["certification"].due_on


def agencies_in_scope(jurisdiction: Jurisdiction, on: dt.date):
    """The agencies counted on *on*: active ones, and merged ones only until their merger."""
    return subtree_tenants_query(jurisdiction).where(in_scope_on(on)).order_by(Tenant.name)


def history(jurisdiction: Jurisdiction, on: dt.date) -> list[Tenant]:
    """Agencies merged on or before *on*: history, reachable from their successors."""
    return list(db.session.scalars(subtree_tenants_query(jurisdiction).where(
        Tenant.status == TenantStatus.MERGED, Tenant.merged_on <= on).order_by(Tenant.name)))


def _objectives(ids: list[int], year: int, on: dt.date, services, surveys) -> dict[int, tuple[int, int]]:
    """Per agency: (objectives of the year, on track): two queries for every agency together, and the
    monthly service results and surveys already loaded for the rates."""
    objectives = db.session.scalars(select(Objective).where(
        Objective.tenant_id.in_(ids), Objective.year == year, Objective.archived_at.is_(None))).all()
    typed: dict[int, dict[int, float]] = {}
    for objective_id, period, value in db.session.execute(
            select(Measurement.objective_id, Measurement.period_index, Measurement.value)
            .join(Objective, and_(Objective.tenant_id == Measurement.tenant_id, Objective.id == Measurement.objective_id))
            .where(Objective.tenant_id.in_(ids), Objective.year == year, Objective.archived_at.is_(None))):
        typed.setdefault(objective_id, {})[period] = value
    out: dict[int, list[int]] = {}
    for objective in objectives:
        if objective.source == Source.TYPED:
            values = typed.get(objective.id, {})
        else:
            values = {}
            for period in objective_rules.periods(year, objective.frequency):
                keys = [(objective.tenant_id, m) for m in period.months]
                if objective.source == Source.ON_TIME_RATE:
                    parts = [services.get(k, (0, 0, 0)) for k in keys]
                    rate = on_time_rate(sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts))
                else:
                    parts = [surveys.get(k, (0, 0)) for k in keys]
                    rate = satisfaction_rate(sum(p[0] for p in parts), sum(p[1] for p in parts))
                if rate is not None:
                    values[period.index] = rate
        judgement = objective_rules.judge(year, objective.frequency, objective.target, objective.comparator, values, on)
        counts = out.setdefault(objective.tenant_id, [0, 0])
        counts[0] += 1
        counts[1] += judgement.status == objective_rules.Status.ON_TRACK
    return {tenant_id: (total, on_track) for tenant_id, (total, on_track) in out.items()}


def _monthly(ids: list[int], year: int):
    services = {(t, m): (int(e or 0), int(o or 0), int(late or 0)) for t, m, e, o, late in db.session.execute(
        select(ServiceResult.tenant_id, ServiceResult.month, func.sum(ServiceResult.resolved_early),
               func.sum(ServiceResult.resolved_on_time), func.sum(ServiceResult.resolved_late))
        .where(ServiceResult.tenant_id.in_(ids), ServiceResult.year == year)
        .group_by(ServiceResult.tenant_id, ServiceResult.month))}
    surveys = {(t, m): (r, s) for t, m, r, s in db.session.execute(
        select(SatisfactionSurvey.tenant_id, SatisfactionSurvey.month, SatisfactionSurvey.responses,
               SatisfactionSurvey.satisfied)
        .where(SatisfactionSurvey.tenant_id.in_(ids), SatisfactionSurvey.year == year))}
    return services, surveys


def compare(jurisdiction: Jurisdiction, on: dt.date | None = None) -> list[Row]:
    on = on or today()
    tenants = list(db.session.scalars(agencies_in_scope(jurisdiction, on)))
    active = [t.id for t in tenants if t.status == TenantStatus.ACTIVE]
    statuses = evaluate(active, on)
    services, surveys = _monthly(active, on.year)
    objectives = _objectives(active, on.year, on, services, surveys)
    service_totals: dict[int, list[int]] = {}
    for (tenant_id, _month), (early, on_time, late) in services.items():
        total = service_totals.setdefault(tenant_id, [0, 0, 0])
        total[0], total[1], total[2] = total[0] + early, total[1] + on_time, total[2] + late
    survey_totals: dict[int, list[int]] = {}
    for (tenant_id, _month), (responses, satisfied) in surveys.items():
        total = survey_totals.setdefault(tenant_id, [0, 0])
        total[0], total[1] = total[0] + responses, total[1] + satisfied
    rows = []
    for tenant in tenants:
        status = statuses.get(tenant.id)
        checks = {c.rule: c for c in status.checks} if status else {
            key: Check(key, Result.NOT_APPLICABLE, "") for key, _label, _rule in RULES}
        total, on_track = objectives.get(tenant.id, (0, 0))
        row = Row(tenant, status.level if status else "merged", checks, objectives_total=total,
                  objectives_on_track=on_track,
                  on_time_rate=on_time_rate(*service_totals.get(tenant.id, (0, 0, 0))),
                  satisfaction_rate=satisfaction_rate(*survey_totals.get(tenant.id, (0, 0))))
        if status and status.facts:
            _add_facts(row, status.facts, on)
        rows.append(row)
    return rows


def _add_facts(row: Row, f, on: dt.date) -> None:
    row.last_audit = max((d for _i, d in f.audits if d and d <= on), default=None)
    row.last_review = max((d for _i, d, _y, _c in f.reviews if d <= on), default=None)
    declared = [d for d in f.declarations if d[1] <= on]
    if declared:
        _id, row.declared_on, row.declared_edition = declared[-1]
    current = [c for c in f.certificates if c[1] <= on]
    if current:
        row.certificate_expires = max(c[2] for c in current)
    row.actions_open, row.actions_overdue = f.actions_open, f.actions_overdue
    row.confirmed_years = frozenset(year for _i, met, year, confirmed in f.reviews if confirmed and met <= on)


@dataclass
class Rollup:
    """One province or ministry under a national jurisdiction, with its counts."""

    jurisdiction: Jurisdiction
    counts: dict[str, int]


def rollup(jurisdiction: Jurisdiction, rows: list[Row], on: dt.date) -> list[Rollup]:
    """The children of *jurisdiction* with the counts of their agencies (one query)."""
    children = list(db.session.scalars(select(Jurisdiction).where(Jurisdiction.parent_id == jurisdiction.id)
                                       .order_by(Jurisdiction.name)))
    if not children:
        return []
    paths = dict(db.session.execute(select(Jurisdiction.id, Jurisdiction.path)
                                    .where(Jurisdiction.path.startswith(jurisdiction.path, autoescape=True))).all())
    grouped: dict[int, list[Row]] = {child.id: [] for child in children}
    for row in rows:
        path = paths.get(row.tenant.jurisdiction_id, "")
        for child in children:
            if path.startswith(child.path):
                grouped[child.id].append(row)
                break
    return [Rollup(child, counts(grouped[child.id], on)) for child in children]


def counts(rows: list[Row], on: dt.date) -> dict[str, int]:
    """The figures at the top of the view (and of the yearly report)."""
    active = [r for r in rows if r.level != "merged"]
    return {
        "in_scope": len(rows),
        "declared": sum(1 for r in active if r.declared_on is not None),
        "on_2015": sum(1 for r in active if r.tenant.iso_edition == "2015"),
        "audited_this_year": sum(1 for r in active if r.last_audit and r.last_audit.year == on.year),
        "reviewed_this_year": sum(1 for r in active if r.last_review and r.last_review.year == on.year),
        "with_overdue_actions": sum(1 for r in active if r.checks["actions"].result == Result.OVERDUE),
        "red": sum(1 for r in active if r.level == Level.RED),
        "amber": sum(1 for r in active if r.level == Level.AMBER),
        "green": sum(1 for r in active if r.level == Level.GREEN),
    }


# --- filters and order of the view (and of its export) ---------------------------------------

FILTERS = ("kind", "level", "edition", "overdue", "sort")
LEVEL_ORDER = {"red": 0, "amber": 1, "green": 2, "merged": 3}
SORTS = {
    "name": lambda r: sort_key(r.tenant.name),
    "level": lambda r: (LEVEL_ORDER[r.level], sort_key(r.tenant.name)),
    "audit": lambda r: (r.last_audit or dt.date.min, sort_key(r.tenant.name)),
    "review": lambda r: (r.last_review or dt.date.min, sort_key(r.tenant.name)),
    "overdue": lambda r: (-r.actions_overdue, sort_key(r.tenant.name)),
    "on_time": lambda r: (r.on_time_rate if r.on_time_rate is not None else -1, sort_key(r.tenant.name)),
}


def clean_filters(source) -> dict[str, str | None]:
    """The filters asked for, unknown values dropped."""
    args = {key: (source.get(key) or None) for key in FILTERS}
    if args["overdue"] not in RULE_KEYS:
        args["overdue"] = None
    if args["sort"] not in SORTS:
        args["sort"] = None
    if args["level"] not in LEVEL_ORDER:
        args["level"] = None
    return args


def filtered(rows: list[Row], args: dict) -> list[Row]:
    """The rows kept by the filters of the view, in the order asked for."""
    if args.get("kind"):
        rows = [r for r in rows if r.tenant.kind == args["kind"]]
    if args.get("level"):
        rows = [r for r in rows if r.level == args["level"]]
    if args.get("edition"):
        rows = [r for r in rows if r.tenant.iso_edition == args["edition"]]
    if args.get("overdue"):
        rows = [r for r in rows if r.checks[args["overdue"]].result == "overdue"]
    sort = SORTS.get(args.get("sort") or "level", SORTS["level"])
    return sorted(rows, key=sort)
