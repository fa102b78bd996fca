"""The inspection checklist's items that the compliance checks judge, pre-filled from the same
evaluation as the agency's status page (one computation, two readers).

Registered with :mod:`govqms.inspections.prefill` (this package sits above inspections); the
inspector confirms or changes each suggestion.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from govqms.compliance.engine import Check, Facts, NoRuleSet, Result, evaluate
from govqms.core.i18n import format_date
from govqms.inspections.models import Inspection
from govqms.inspections.prefill import (
    CHECK_ON_SITE,
    MET,
    NOT_APPLICABLE,
    NOT_MET,
    ON_SITE,
    Suggestion,
    suggestion_source,
)
from govqms.tenancy.models import Tenant

#: An item is met while its rule is not overdue on the inspection's day.
_JUDGED = {Result.OK: MET, Result.DUE_SOON: MET, Result.OVERDUE: NOT_MET}


def _from(check: Check, *more) -> Suggestion:
    """The check's result and reason; a rule that does not apply leaves the item to the inspectors."""
    result = _JUDGED.get(check.result, ON_SITE)
    return Suggestion(result, " ".join(str(part) for part in (check.reason, *more) if part))


@suggestion_source
def compliance_items(inspection: Inspection, tenant: Tenant, on: dt.date) -> dict[str, Suggestion]:
    try:
        status = evaluate([tenant.id], on)[tenant.id]
    except NoRuleSet:  # a day before QĐ 19/2014: no rule to judge by
        return {}
    checks = {check.rule: check for check in status.checks}
    facts = status.facts
    audit_review_actions = [checks["internal_audit"], checks["management_review"], checks["actions"]]
    suggestions = {
        "declaration": _declaration(facts, on),
        "redeclaration": _redeclaration(facts, on),
        "conformity": _from(checks["edition"], _dated(checks["edition"].ref, facts), CHECK_ON_SITE["conformity"]),
        "review_audit_capa": Suggestion(
            NOT_MET if any(c.result == Result.OVERDUE for c in audit_review_actions) else MET,
            " ".join(c.reason for c in audit_review_actions)),
        "confirmation": _from(checks["confirmation"], _dated(checks["confirmation"].ref, facts)),
    }
    recorded = [effective for _id, effective, _applied in facts.legal_changes if effective <= on]
    if facts.legal_changes:  # with none recorded, "every change applied" says nothing
        suggestions["legal_updates"] = _from(checks["legal_changes"], _l(
            "%(n)s legal change(s) recorded; the latest took effect on %(date)s.", n=len(recorded),
            date=format_date(max(recorded))) if recorded else None)
    else:
        suggestions["legal_updates"] = Suggestion(ON_SITE, " ".join((
            str(_l("No legal change is recorded in the QMS.")), str(CHECK_ON_SITE["legal_updates"]))))
    consultant = checks["consultant"]
    suggestions["consultant"] = (_from(consultant) if consultant.result != Result.NOT_APPLICABLE else Suggestion(
        ON_SITE, " ".join((consultant.reason, str(CHECK_ON_SITE["consultant"])))))
    return suggestions


def _dated(ref, facts: Facts):
    """The date of the record a check rests on, in words (the reasons of the status page leave it out)."""
    kind, record_id = ref or (None, None)
    if kind == "declaration":
        day = next(d[1] for d in facts.declarations if d[0] == record_id)
        return _l("Declaration in force decided on %(date)s.", date=format_date(day))
    if kind == "certificate":
        day = next(c[1] for c in facts.certificates if c[0] == record_id)
        return _l("Certificate in force issued on %(date)s.", date=format_date(day))
    if kind == "review":
        day = next(r[3] for r in facts.reviews if r[0] == record_id)
        return _l("Confirmed at the management review, on %(date)s.", date=format_date(day)) if day else None
    return None


def _declaration(facts: Facts, on: dt.date) -> Suggestion:
    """The declaration in force on *on*, and the steps that make it public (its scope and edition are
    judged by the re-declaration and conformity items)."""
    current = facts.declaration_on(on)
    if current is None:
        return Suggestion(NOT_MET, str(_l("No declaration of conformity is recorded by %(date)s.",
                                          date=format_date(on))))
    _id, decided, edition, notified, posted, published = current
    parts = [_l("Declared on %(date)s (TCVN ISO 9001:%(edition)s).", date=format_date(decided), edition=edition)]
    missing = []
    steps = ((notified, lambda d: _l("Notified to the DOST on %(date)s.", date=d), _l("notification to the DOST")),
             (posted, lambda d: _l("Posted at the office on %(date)s.", date=d), _l("posting at the office")),
             (published, lambda d: _l("Published on the website on %(date)s.", date=d),
              _l("publication on the website")))
    for day, done, step in steps:
        if day is not None and day <= on:
            parts.append(done(format_date(day)))
        else:
            missing.append(str(step))
    if missing:
        parts.append(_l("Not recorded: %(steps)s.", steps=", ".join(missing)))
    return Suggestion(NOT_MET if missing else MET, " ".join(str(part) for part in parts))


def _redeclaration(facts: Facts, on: dt.date) -> Suggestion:
    """A scope changed since the declaration in force (procedures added outside it, or withdrawn from it)
    asks for a new declaration; a scope unchanged needs none."""
    declared = [d for d in facts.declarations if d[1] <= on]
    if not declared:
        return Suggestion(NOT_APPLICABLE, str(_l("No declaration is recorded: nothing to declare again.")))
    decided = declared[-1][1]
    if facts.undeclared_procedures or facts.withdrawn_procedures:
        parts = []  # the status page's words, translated once
        if facts.undeclared_procedures:
            parts.append(str(_l("%(n)s administrative procedure(s) are outside the scope declared on %(date)s",
                                n=facts.undeclared_procedures, date=format_date(decided))))
        if facts.withdrawn_procedures:
            parts.append(str(_l("%(n)s procedure(s) of that scope have been withdrawn since",
                                n=facts.withdrawn_procedures)))
        return Suggestion(NOT_MET, str(_l("%(what)s: declare again.", what="; ".join(parts))))
    if len(declared) > 1:
        return Suggestion(MET, str(_l(
            "Declared again on %(date)s (previous declaration of %(previous)s); the declared scope covers every "
            "procedure of the catalogue.", date=format_date(decided), previous=format_date(declared[-2][1]))))
    return Suggestion(NOT_APPLICABLE, str(_l(
        "The scope declared on %(date)s covers every procedure of the catalogue: no new declaration was needed.",
        date=format_date(decided))))
