"""The year's schedule of agencies: what happens or comes due, from the records.

Each *source* turns the records of many agencies into :class:`Event` items with one query
(or a fixed few), so the timeline and the feeds cost the same for 10 agencies as for 300.
Domains that bring dated records of their own (inspections, data calls, the compliance engine's
certification dates) register a source in their ``schedule`` module, discovered like tasks.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from govqms.audits.models import Audit
from govqms.conformity.models import ExternalAudit
from govqms.extensions import db
from govqms.reviews.models import ManagementReview


@dataclass(frozen=True)
class Event:
    kind: str
    start: dt.date
    tenant_id: int | None
    title: str
    uid: str  # stable across fetches, so calendars update an event instead of adding it again
    end: dt.date | None = None  # last day, inclusive
    link: tuple[str, dict] | None = None  # endpoint and arguments (tenant_slug added by the caller)
    detail: str = ""
    extra: dict = field(default_factory=dict)


#: What the timeline can show, in the order of its filter (sources add theirs).
KIND_LABELS: dict[str, object] = {}
Source = Callable[[list[int], dt.date, dt.date], Iterable[Event]]
SOURCES: list[tuple[str, Source]] = []


def source(kind: str, label) -> Callable[[Source], Source]:
    """Register a source of events of *kind*."""

    def decorator(func: Source) -> Source:
        KIND_LABELS.setdefault(kind, label)
        SOURCES.append((kind, func))
        return func

    return decorator


def _overlaps(start_col, end_col, start: dt.date, end: dt.date):
    return and_(start_col <= end, end_col >= start)


@source("internal_audit", _l("Internal audit"))
def _audits(ids, start, end):
    for audit in db.session.scalars(select(Audit).where(
            Audit.tenant_id.in_(ids), Audit.archived_at.is_(None),
            or_(_overlaps(Audit.planned_start, Audit.planned_end, start, end),
                _overlaps(Audit.actual_start, Audit.actual_end, start, end)))):
        first = audit.actual_start or audit.planned_start
        last = audit.actual_end or audit.planned_end
        yield Event("internal_audit", first, audit.tenant_id, audit.title, f"audit-{audit.id}", last,
                    ("audits.detail", {"audit_id": audit.id}))


@source("management_review", _l("Management review"))
def _reviews(ids, start, end):
    for review in db.session.scalars(select(ManagementReview).where(
            ManagementReview.tenant_id.in_(ids), ManagementReview.meeting_on.between(start, end))):
        yield Event("management_review", review.meeting_on, review.tenant_id,
                    str(_l("Management review %(year)s", year=review.year)), f"review-{review.id}",
                    link=("reviews.detail", {"review_id": review.id}), detail=review.chair)


@source("external_audit", _l("External audit"))
def _external(ids, start, end):
    from govqms.conformity.models import EXTERNAL_AUDIT_LABELS

    for audit in db.session.scalars(select(ExternalAudit).where(
            ExternalAudit.tenant_id.in_(ids),
            or_(ExternalAudit.planned_on.between(start, end), ExternalAudit.held_on.between(start, end)))):
        day = audit.held_on or audit.planned_on
        yield Event("external_audit", day, audit.tenant_id, str(EXTERNAL_AUDIT_LABELS.get(audit.kind, audit.kind)),
                    f"external-audit-{audit.id}", link=("conformity.index", {}), detail=audit.result)


def events(tenant_ids: list[int], start: dt.date, end: dt.date, kinds: set[str] | None = None) -> list[Event]:
    """Every event of these agencies between *start* and *end*, in date order (a day's events of a kind in the
    order of *tenant_ids*: by name, as the callers list agencies)."""
    found: list[Event] = []
    if tenant_ids:
        for kind, func in SOURCES:
            if not kinds or kind in kinds:
                found.extend(func(list(tenant_ids), start, end))
    rank = {tenant_id: position for position, tenant_id in enumerate(tenant_ids)}
    return sorted(found, key=lambda e: (e.start, e.kind, rank.get(e.tenant_id, -1), e.uid))
