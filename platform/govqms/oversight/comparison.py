"""The comparison of every agency of a jurisdiction, for the province (DOST) and ministry views.

Everything is loaded for all agencies at once: the compliance engine's facts, and the year's
objectives, measurements, service results and surveys grouped by agency, so the page costs the
same number of queries for 10 agencies as for 300; and each agency's standing is cached under its
version, so what did not change is not computed again.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import select

from govqms.compliance import engine
from govqms.compliance.engine import RULES, Check, Level, Result, evaluate
from govqms.core.cache import cache
from govqms.core.clock import today
from govqms.core.db import in_ids, vi_order
from govqms.core.text import sort_key
from govqms.extensions import db
from govqms.objectives import valuation
from govqms.objectives.valuation import valuate
from govqms.tenancy.models import Jurisdiction, Tenant, TenantStatus
from govqms.tenancy.services import in_scope_on, subtree_tenants_query
from govqms.tenancy.versions import BUMPED

RULE_KEYS = {key for key, _label, _rule in RULES}


@dataclass
class Row:
    #: the agency (AGENCY_COLUMNS); None in the cache: the row is joined to the agency the request loaded
    tenant: Any
    level: str  # a compliance Level
    checks: dict[str, Check]
    last_audit: dt.date | None = None
    last_review: dt.date | None = None
    declared_on: dt.date | None = None
    declared_edition: str | None = None
    edition: str | None = None  # applied on the day: from the declaration or certificate in force
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


#: What a comparison row shows of its agency: plain columns (thousands of full ORM objects a request
#: cost more than the rest of a cached page)
AGENCY_COLUMNS = (Tenant.id, Tenant.slug, Tenant.name, Tenant.kind, Tenant.jurisdiction_id, Tenant.status,
                  Tenant.established_on, Tenant.merged_on, Tenant.standing_version)


def agencies_in_scope(jurisdiction: Jurisdiction, on: dt.date):
    """The agencies that existed on *on*: established by then, and not merged before (a merged agency
    is judged like any other until its merger)."""
    return (subtree_tenants_query(jurisdiction).where(in_scope_on(on)).order_by(vi_order(Tenant.name))
            .with_only_columns(*AGENCY_COLUMNS))


def history(jurisdiction: Jurisdiction, on: dt.date, direct: bool = False) -> list[Tenant]:
    """Agencies merged on or before *on*: history, reachable from their successors (with *direct*,
    only those attached to *jurisdiction* itself, as the national view lists its agencies)."""
    query = subtree_tenants_query(jurisdiction) if not direct else select(Tenant).where(
        Tenant.jurisdiction_id == jurisdiction.id)
    return list(db.session.scalars(query.where(Tenant.status == TenantStatus.MERGED, Tenant.merged_on <= on)
                                   .order_by(vi_order(Tenant.name))))


def compare(jurisdiction: Jurisdiction, on: dt.date | None = None) -> list[Row]:
    """Every agency of *jurisdiction* that existed on *on*, with its standing that day."""
    on = on or today()
    return rows_of(db.session.execute(agencies_in_scope(jurisdiction, on)).all(), jurisdiction.id, on)


def rows_of(tenants: list, jurisdiction_id: int, on: dt.date) -> list[Row]:
    """The standing on *on* of each agency of *tenants* (rows of AGENCY_COLUMNS).

    Each agency's standing is cached under its ``standing_version`` (renewed by any write of its
    records), the day, the language and the rules' code, so it is computed once and shared by every
    overseer and level that shows it; only the agencies missing from the cache are computed, all
    together in a fixed number of queries."""
    suffix = key_suffix(on)
    keys = {t.id: _key(t, suffix) for t in tenants}
    writing = db.session.info.get(BUMPED, False)  # this transaction changed agencies: compute, keep nothing
    found = {} if writing else cache().get_many(list(keys.values()))
    missing = [t for t in tenants if keys[t.id] not in found]
    if missing and not writing:
        with _computing(jurisdiction_id, on):
            found.update(cache().get_many([keys[t.id] for t in missing]))  # another thread may have done it
            missing = [t for t in tenants if keys[t.id] not in found]
            computed = _standings([t.id for t in missing], on)
            cache().set_many({keys[tenant_id]: row for tenant_id, row in computed.items()})
    else:
        computed = _standings([t.id for t in missing], on)
    found.update({keys[tenant_id]: row for tenant_id, row in computed.items()})
    return [_joined(found[keys[t.id]], t) for t in tenants]


def _joined(row: Row, tenant) -> Row:
    """The cached row with the agency loaded by this request (a shallow copy: the cached one stays
    without it)."""
    joined = Row.__new__(Row)
    joined.__dict__.update(row.__dict__, tenant=tenant)
    return joined


#: The code the standings are computed by: a deployment that changes a rule never reads rows cached
#: by the code before it.
CODE_VERSION = hashlib.sha256(b"".join(
    Path(module.__file__).read_bytes() for module in (engine, valuation, sys.modules[__name__]))).hexdigest()[:12]


def key_suffix(on: dt.date) -> str:
    """What every cached piece of the view depends on besides its agencies: the day, the language and
    the due-soon window."""
    return f"{on.isoformat()}:{get_locale()}:{current_app.config.get('COMPLIANCE_DUE_SOON_DAYS', 30)}"


def _key(tenant, suffix: str) -> str:
    return f"standing:{CODE_VERSION}:{tenant.id}:{tenant.standing_version}:{suffix}"


def standing_key(tenant, on: dt.date) -> str:
    """The cache key of an agency's standing on *on*: its version, the day, the language, the due-soon
    window and the code that computes it."""
    return _key(tenant, key_suffix(on))


_locks: dict[tuple, threading.Lock] = {}
_locks_guard = threading.Lock()


@contextlib.contextmanager
def _computing(jurisdiction_id: int, on: dt.date):
    """One thread of this process computes a jurisdiction's missing standings at a time; the others
    wait and find them in the cache (a morning rush of overseers costs one computation)."""
    key = (jurisdiction_id, str(get_locale()))  # not the day: the table stays as small as the jurisdictions
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        yield


def _standings(ids: list[int], on: dt.date) -> dict[int, Row]:
    """The standing of each agency on *on* (a row without its tenant), computed together."""
    if not ids:
        return {}
    statuses = evaluate(ids, on)
    valuations = valuate(ids, on.year, on)  # as the agencies' own pages value them
    rows = {}
    for tenant_id in ids:
        status = statuses[tenant_id]
        valued = valuations[tenant_id]
        row = Row(None, status.level, {c.rule: c for c in status.checks}, objectives_total=valued.objectives_total,
                  objectives_on_track=valued.objectives_on_track, on_time_rate=valued.on_time_rate,
                  satisfaction_rate=valued.satisfaction_rate)
        _add_facts(row, status.facts, on)
        rows[tenant_id] = row
    return rows


def _add_facts(row: Row, f, on: dt.date) -> None:
    row.last_audit = max((d for _i, d in f.audits if d and d <= on), default=None)
    row.last_review = max((held for _i, held, _y, _c in f.reviews if held and held <= on), default=None)
    declared = f.declaration_on(on)
    if declared:
        row.declared_on, row.declared_edition = declared[1], declared[2]
    certificate = f.certificate_on(on)
    if certificate:
        row.certificate_expires = certificate[2]
    edition = f.edition_on(on)
    row.edition = edition[0] if edition else None
    open_ = f.nonconformities + f.corrective_actions
    row.actions_open = len(open_)
    row.actions_overdue = sum(1 for _i, due in open_ if due < on)
    row.confirmed_years = frozenset(year for _i, held, year, confirmed in f.reviews
                                    if confirmed and held and held <= on and confirmed <= on)


@dataclass
class Summary:
    """What the top of the view shows of a set of agencies: the counts, and how many agencies have
    each result of each check (rule, result) -> agencies."""

    counts: dict[str, int]
    tally: dict[tuple[str, str], int]

    def __add__(self, other: Summary) -> Summary:
        tally = dict(self.tally)
        for key, n in other.tally.items():
            tally[key] = tally.get(key, 0) + n
        return Summary({key: n + other.counts[key] for key, n in self.counts.items()}, tally)


def summarize(rows: list[Row], on: dt.date) -> Summary:
    tally: dict[tuple[str, str], int] = {}
    for r in rows:
        for key, check in r.checks.items():
            tally[(key, str(check.result))] = tally.get((key, str(check.result)), 0) + 1
    return Summary(counts(rows, on), tally)


@dataclass
class Rollup:
    """One province or ministry under a national jurisdiction, with its counts."""

    jurisdiction: Jurisdiction
    counts: dict[str, int]


@dataclass
class Overview:
    """A jurisdiction's view on a day. Where provinces or ministries lie below it (the national level),
    the view is their totals with a drill-down, and lists only the agencies attached to it directly:
    the nation's thousands of agencies are never loaded one by one."""

    rows: list[Row]  # the agencies listed
    rollup: list[Rollup]
    summary: Summary  # of every agency in scope, listed or not
    tenant_ids: list[int]  # every agency in scope


@dataclass
class Scope:
    """The agencies a jurisdiction's view covers on a day, as light rows (id, standing_version, path of
    their jurisdiction), and the provinces or ministries directly below it: two queries, and enough to
    know whether anything shown could have changed (:attr:`digest`)."""

    jurisdiction: Jurisdiction
    on: dt.date
    children: list[Jurisdiction]
    agencies: list  # (id, standing_version, path), by id

    @property
    def digest(self) -> str:
        """Changes whenever an agency of the scope writes (or enters or leaves it), a child is renamed,
        or the code computing standings changes."""
        return _digest(self.agencies, extra=[(c.id, c.code, c.name) for c in self.children])


def scope_of(jurisdiction: Jurisdiction, on: dt.date | None = None) -> Scope:
    on = on or today()
    children = list(db.session.scalars(select(Jurisdiction).where(Jurisdiction.parent_id == jurisdiction.id)
                                       .order_by(vi_order(Jurisdiction.name))))
    agencies = db.session.execute(
        agencies_in_scope(jurisdiction, on).with_only_columns(Tenant.id, Tenant.standing_version, Jurisdiction.path)
        .order_by(None).order_by(Tenant.id)).all()
    return Scope(jurisdiction, on, children, agencies)


def overview(scope: Scope) -> Overview:
    """The view of a scope, in a fixed number of queries whatever the agencies.

    Each child's totals are cached under a digest of its agencies' ids and versions (with the day,
    language and code of a standing): a write in one province recomputes that province's totals, from
    its agencies' cached standings, and nothing else."""
    jurisdiction, on, children, agencies = scope.jurisdiction, scope.on, scope.children, scope.agencies
    direct, members = [], {child.id: [] for child in children}
    by_path = {child.path: members[child.id] for child in children}
    start = len(jurisdiction.path)
    for agency in agencies:  # a child's path is this one's and one more code: /vn/ → /vn/khanh-hoa/
        end = agency.path.find("/", start)
        by_path.get(agency.path[:end + 1], direct).append(agency)
    suffix = key_suffix(on)
    keys = {child.id: "summary:" + _digest(members[child.id]) + ":" + suffix for child in children}
    writing = db.session.info.get(BUMPED, False)
    found = {} if writing else cache().get_many(list(keys.values()))
    missing = [child.id for child in children if keys[child.id] not in found]
    listed = {a.id for a in direct}
    wanted = listed | {a.id for child_id in missing for a in members[child_id]}
    loaded = db.session.execute(select(*AGENCY_COLUMNS).where(in_ids(Tenant.id, list(wanted) or [0]))
                                .order_by(vi_order(Tenant.name))).all() if wanted else []
    rows = rows_of(loaded, jurisdiction.id, on)
    child_of = {a.id: child_id for child_id in missing for a in members[child_id]}
    computed: dict[int, list[Row]] = {child_id: [] for child_id in missing}
    for row in rows:
        if row.tenant.id in child_of:
            computed[child_of[row.tenant.id]].append(row)
    summaries = {keys[child_id]: summarize(child_rows, on) for child_id, child_rows in computed.items()}
    if summaries and not writing:
        cache().set_many(summaries)
    found.update(summaries)
    listed_rows = [row for row in rows if row.tenant.id in listed]
    total = summarize(listed_rows, on)
    for child in children:
        total = total + found[keys[child.id]]
    return Overview(listed_rows, [Rollup(child, found[keys[child.id]].counts) for child in children], total,
                    [a.id for a in agencies])


def _digest(agencies, extra=()) -> str:
    """Which agencies, at which versions, under the code of the standings."""
    h = hashlib.blake2b(CODE_VERSION.encode(), digest_size=12)
    for agency in agencies:
        h.update(f"{agency.id}:{agency.standing_version},".encode())
    h.update(repr(list(extra)).encode())
    return h.hexdigest()


def counts(rows: list[Row], on: dt.date) -> dict[str, int]:
    """The figures at the top of the view (and of the yearly report), in one pass over the rows."""
    out = dict.fromkeys(("in_scope", "declared", "on_2015", "audited_this_year", "reviewed_this_year",
                         "with_overdue_actions", "red", "amber", "green"), 0)
    out["in_scope"] = len(rows)
    for r in rows:
        out["declared"] += r.declared_on is not None
        out["on_2015"] += r.edition == "2015"
        out["audited_this_year"] += bool(r.last_audit and r.last_audit.year == on.year)
        out["reviewed_this_year"] += bool(r.last_review and r.last_review.year == on.year)
        out["with_overdue_actions"] += r.checks["actions"].result == Result.OVERDUE
        if r.level in (Level.RED, Level.AMBER, Level.GREEN):
            out[str(r.level)] += 1
    return out


# --- filters and order of the view (and of its export) ---------------------------------------

LEVEL_ORDER = {"red": 0, "amber": 1, "green": 2}
SORTS = {
    "name": lambda r: sort_key(r.tenant.name),
    "level": lambda r: (LEVEL_ORDER[r.level], sort_key(r.tenant.name)),
    "audit": lambda r: (r.last_audit or dt.date.min, sort_key(r.tenant.name)),
    "review": lambda r: (r.last_review or dt.date.min, sort_key(r.tenant.name)),
    "overdue": lambda r: (-r.actions_overdue, sort_key(r.tenant.name)),
    "on_time": lambda r: (r.on_time_rate if r.on_time_rate is not None else -1, sort_key(r.tenant.name)),
}


def filtered(rows: list[Row], args: dict) -> list[Row]:
    """The rows kept by the filters of the view, in the order asked for."""
    if args.get("kind"):
        rows = [r for r in rows if r.tenant.kind == args["kind"]]
    if args.get("level"):
        rows = [r for r in rows if r.level == args["level"]]
    if args.get("edition"):
        rows = [r for r in rows if r.edition == args["edition"]]
    if args.get("overdue"):
        rows = [r for r in rows if r.checks[args["overdue"]].result == "overdue"]
    sort = SORTS.get(args.get("sort") or "level", SORTS["level"])
    return sorted(rows, key=sort)
