"""Who may do what. The one place roles are mapped to actions.

Views, the CLI and the API ask :meth:`Access.can`; none of them compares role names.
A role grants actions inside one tenant; an oversight role grants the read actions over
every tenant of a jurisdiction subtree; a merged or archived tenant allows no writes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from flask_babel import lazy_gettext as _l


class TenantRole(StrEnum):
    HEAD = "head"
    QMR = "qmr"
    ISO_SECRETARY = "iso_secretary"
    AUDITOR = "auditor"
    STAFF = "staff"
    VIEWER = "viewer"


class OversightRoleKind(StrEnum):
    OVERSEER = "overseer"
    STEERING_COMMITTEE = "steering_committee"


ROLE_LABELS = {
    TenantRole.HEAD: _l("Head of agency"),
    TenantRole.QMR: _l("Management representative"),
    TenantRole.ISO_SECRETARY: _l("ISO secretary"),
    TenantRole.AUDITOR: _l("Internal auditor"),
    TenantRole.STAFF: _l("Staff"),
    TenantRole.VIEWER: _l("Viewer"),
    OversightRoleKind.OVERSEER: _l("Provincial overseer"),
    OversightRoleKind.STEERING_COMMITTEE: _l("Ministry steering committee"),
}


class Action(StrEnum):
    WORKSPACE_VIEW = "workspace.view"
    MEMBERS_VIEW = "members.view"
    UNITS_MANAGE = "units.manage"
    ACTIVITY_VIEW = "activity.view"
    ACTIVITY_EXPORT = "activity.export"
    OVERSIGHT_VIEW = "oversight.view"
    INSPECTIONS_MANAGE = "inspections.manage"
    DATA_CALLS_SEND = "data_calls.send"
    DATA_CALLS_REPLY = "data_calls.reply"
    UNIT_CALLS_SEND = "unit_calls.send"
    DOCUMENTS_VIEW = "documents.view"
    DOCUMENTS_DRAFT = "documents.draft"
    DOCUMENTS_REVIEW = "documents.review"
    DOCUMENTS_APPROVE = "documents.approve"
    CATALOGUES_MANAGE = "catalogues.manage"
    OBJECTIVES_VIEW = "objectives.view"
    OBJECTIVES_MANAGE = "objectives.manage"
    MEASUREMENTS_RECORD = "measurements.record"
    PERFORMANCE_MANAGE = "performance.manage"
    IMPROVEMENT_VIEW = "improvement.view"
    AUDITS_MANAGE = "audits.manage"
    NONCONFORMITIES_MANAGE = "nonconformities.manage"
    NONCONFORMITIES_VERIFY = "nonconformities.verify"
    ACTIONS_UPDATE_OWN = "actions.update_own"
    RISKS_MANAGE = "risks.manage"
    REVIEWS_MANAGE = "reviews.manage"
    REVIEWS_CONFIRM = "reviews.confirm"
    COMPETENCE_MANAGE = "competence.manage"
    WEBHOOKS_MANAGE = "webhooks.manage"


#: Actions that change tenant data. Refused to overseers and on merged or archived tenants.
WRITE_ACTIONS = frozenset({Action.UNITS_MANAGE, Action.DOCUMENTS_DRAFT, Action.DOCUMENTS_REVIEW,
                           Action.DOCUMENTS_APPROVE, Action.CATALOGUES_MANAGE, Action.OBJECTIVES_MANAGE,
                           Action.MEASUREMENTS_RECORD, Action.PERFORMANCE_MANAGE, Action.AUDITS_MANAGE,
                           Action.NONCONFORMITIES_MANAGE, Action.NONCONFORMITIES_VERIFY, Action.ACTIONS_UPDATE_OWN,
                           Action.RISKS_MANAGE, Action.REVIEWS_MANAGE, Action.REVIEWS_CONFIRM,
                           Action.COMPETENCE_MANAGE, Action.DATA_CALLS_REPLY, Action.UNIT_CALLS_SEND,
                           Action.WEBHOOKS_MANAGE})

_EVERY_MEMBER = {Action.WORKSPACE_VIEW, Action.MEMBERS_VIEW, Action.DOCUMENTS_VIEW, Action.OBJECTIVES_VIEW,
                 Action.IMPROVEMENT_VIEW}
#: Anyone who works in the agency updates the actions assigned to them (the service checks the owner).
_WORKERS = _EVERY_MEMBER | {Action.ACTIONS_UPDATE_OWN}
_KEEPERS = _WORKERS | {Action.UNITS_MANAGE, Action.ACTIVITY_VIEW, Action.ACTIVITY_EXPORT,
                       Action.DOCUMENTS_DRAFT, Action.CATALOGUES_MANAGE, Action.OBJECTIVES_MANAGE,
                       Action.MEASUREMENTS_RECORD, Action.PERFORMANCE_MANAGE, Action.AUDITS_MANAGE,
                       Action.NONCONFORMITIES_MANAGE, Action.RISKS_MANAGE, Action.REVIEWS_MANAGE,
                       Action.COMPETENCE_MANAGE, Action.DATA_CALLS_REPLY, Action.WEBHOOKS_MANAGE}
#: Leaders check and approve documents and verify corrective actions; the ISO secretary drafts and records.
_LEADERS = _KEEPERS | {Action.DOCUMENTS_REVIEW, Action.DOCUMENTS_APPROVE, Action.NONCONFORMITIES_VERIFY,
                       Action.UNIT_CALLS_SEND}

TENANT_ROLE_ACTIONS: dict[TenantRole, frozenset[Action]] = {
    # The head confirms the QMS is effective for the year (xác nhận hiệu lực).
    TenantRole.HEAD: frozenset(_LEADERS | {Action.REVIEWS_CONFIRM}),
    TenantRole.QMR: frozenset(_LEADERS),
    TenantRole.ISO_SECRETARY: frozenset(_KEEPERS),
    # Internal auditors plan and record audits; their nonconformity findings open nonconformities,
    # which the agency's keepers then analyse and correct.
    TenantRole.AUDITOR: frozenset(_WORKERS | {Action.ACTIVITY_VIEW, Action.AUDITS_MANAGE}),
    # Staff of a division enter the measurements of their unit's objectives (DOMAIN.md).
    TenantRole.STAFF: frozenset(_WORKERS | {Action.MEASUREMENTS_RECORD}),
    TenantRole.VIEWER: frozenset(_EVERY_MEMBER),
}

#: Overseers read everything a keeper reads, and write nothing.
OVERSIGHT_TENANT_ACTIONS = frozenset(a for a in _LEADERS if a not in WRITE_ACTIONS)
OVERSIGHT_ROLE_ACTIONS: dict[OversightRoleKind, frozenset[Action]] = {
    # Both inspect the agencies below them (TT 26/2014 Art. 33: provinces their departments,
    # ministries their units); what they write is the inspection, never the agency's own records.
    OversightRoleKind.OVERSEER: frozenset({Action.OVERSIGHT_VIEW, Action.INSPECTIONS_MANAGE,
                                           Action.DATA_CALLS_SEND}),
    OversightRoleKind.STEERING_COMMITTEE: frozenset({Action.OVERSIGHT_VIEW, Action.INSPECTIONS_MANAGE,
                                                     Action.DATA_CALLS_SEND}),
}


@dataclass(frozen=True)
class Access:
    """What one user may do in one tenant (or one jurisdiction)."""

    roles: frozenset[TenantRole] = field(default_factory=frozenset)
    oversight: frozenset[OversightRoleKind] = field(default_factory=frozenset)
    writable_tenant: bool = True

    @property
    def read_only(self) -> bool:
        return not self.writable_tenant or not any(TENANT_ROLE_ACTIONS[r] & WRITE_ACTIONS for r in self.roles)

    def can(self, action: Action) -> bool:
        if action in WRITE_ACTIONS and not self.writable_tenant:
            return False
        if any(action in TENANT_ROLE_ACTIONS[r] for r in self.roles):
            return True
        if self.oversight and action in OVERSIGHT_TENANT_ACTIONS:
            return True
        return any(action in OVERSIGHT_ROLE_ACTIONS[r] for r in self.oversight)


NO_ACCESS = Access()


def role_table() -> list[tuple[str, list[str]]]:
    """The role table as README shows it (kept in step by a test)."""
    rows = [(str(role), sorted(str(a) for a in actions)) for role, actions in TENANT_ROLE_ACTIONS.items()]
    rows += [
        (str(role), sorted(str(a) for a in OVERSIGHT_ROLE_ACTIONS[role] | OVERSIGHT_TENANT_ACTIONS))
        for role in OversightRoleKind
    ]
    return rows
