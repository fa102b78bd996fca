"""What the compliance engine reminds agencies of: each rule coming due that no other source reminds
item by item."""
from __future__ import annotations

from govqms.compliance.engine import RULE_LABELS, evaluate
from govqms.notifications.messages import subject
from govqms.notifications.reminders import Due, due_source

#: Compliance rules whose due dates the sources above already remind item by item.
_COVERED_RULES = {"actions", "other_actions", "document_reviews", "data_calls", "inspection_actions"}


@due_source("rule")
def _compliance(ids, today, until):
    for tenant_id, status in evaluate(ids, today).items():
        for check in status.checks:
            if check.rule in _COVERED_RULES or check.due_on is None or check.due_on > until:
                continue
            yield Due("rule", f"rule:{check.rule}:{tenant_id}:{check.due_on.isoformat()}", tenant_id, check.due_on,
                      {"rule": check.rule}, ("compliance.status", {}))


@subject("rule")
def rule_subject(params: dict) -> str:
    return str(RULE_LABELS.get(params.get("rule"), params.get("rule", "")))
