"""Every compliance rule at its boundaries, on facts built by hand."""
from __future__ import annotations

import datetime as dt

import pytest

from govqms.compliance import engine
from govqms.compliance.engine import Context, Facts, Result

TODAY = dt.date(2026, 11, 21)
CTX = Context(TODAY, 30)


def facts(**values) -> Facts:
    return Facts(tenant_id=1, edition=values.pop("edition", "2015"), **values)


class TestWithinTwelveMonths:
    @pytest.mark.parametrize("rule, field, row", [
        (engine.internal_audit, "audits", lambda d: (7, d)),
        (engine.management_review, "reviews", lambda d: (7, d, d.year, False)),
    ])
    def test_boundaries(self, rule, field, row):
        def result(held):
            return rule(facts(**{field: [row(held)]}), CTX)

        exactly = result(dt.date(2025, 11, 21))          # 12 months ago: due today
        assert (exactly.result, exactly.due_on) == (Result.DUE_SOON, TODAY)
        assert result(dt.date(2025, 11, 20)).result == Result.OVERDUE       # one day over
        assert result(dt.date(2026, 1, 1)).result == Result.OK              # due 01/01/2027: 41 days away
        assert result(dt.date(2025, 12, 21)).result == Result.DUE_SOON      # due in 30 days
        assert result(dt.date(2025, 12, 22)).result == Result.OK            # due in 31 days
        assert result(dt.date(2025, 12, 22)).ref == ("audit" if field == "audits" else "review", 7)

    def test_none_is_overdue(self):
        assert engine.internal_audit(facts(), CTX).result == Result.OVERDUE
        assert engine.management_review(facts(), CTX).result == Result.OVERDUE

    def test_future_review_does_not_count(self):
        planned = facts(reviews=[(1, dt.date(2026, 12, 15), 2026, False)])
        assert engine.management_review(planned, CTX).result == Result.OVERDUE


def test_due_soon_threshold_is_a_setting():
    held = [(1, dt.date(2026, 1, 10))]  # due 10/01/2027: 50 days away
    assert engine.internal_audit(facts(audits=held), Context(TODAY, 30)).result == Result.OK
    assert engine.internal_audit(facts(audits=held), Context(TODAY, 60)).result == Result.DUE_SOON


class TestDeclaration:
    def test_none(self):
        assert engine.declaration(facts(), CTX).result == Result.OVERDUE

    def test_covering_the_scope(self):
        assert engine.declaration(facts(declarations=[(3, dt.date(2022, 5, 1), "2015")]), CTX).result == Result.OK

    def test_scope_changed_without_redeclaring(self):
        check = engine.declaration(facts(declarations=[(3, dt.date(2022, 5, 1), "2015")], undeclared_procedures=2),
                                   CTX)
        assert check.result == Result.OVERDUE and "2" in check.reason

    def test_declared_on_2008(self):
        assert engine.declaration(facts(declarations=[(3, dt.date(2016, 5, 1), "2008")]), CTX).result == \
            Result.OVERDUE

    def test_latest_declaration_counts(self):
        history = [(2, dt.date(2016, 5, 1), "2008"), (3, dt.date(2022, 5, 1), "2015")]
        assert engine.declaration(facts(declarations=history), CTX).ref == ("declaration", 3)


def test_edition():
    assert engine.edition(facts(edition="2015"), CTX).result == Result.OK
    check = engine.edition(facts(edition="2008"), CTX)
    assert check.result == Result.OVERDUE and check.due_on == dt.date(2021, 6, 30)


class TestLegalChanges:
    def test_none_pending(self):
        assert engine.legal_changes(facts(), CTX).result == Result.OK

    def test_boundaries(self):
        def result(effective):
            return engine.legal_changes(facts(legal_unapplied=[(5, effective)]), CTX).result

        assert result(dt.date(2026, 8, 21)) == Result.DUE_SOON   # 3 months: due today
        assert result(dt.date(2026, 8, 20)) == Result.OVERDUE    # one day over
        assert result(dt.date(2026, 10, 1)) == Result.OK         # due 01/01/2027


class TestInspectionActions:
    def test_not_applicable_without_inspection_findings(self):
        assert engine.inspection_actions(facts(), CTX).result == Result.NOT_APPLICABLE

    def test_due_date_boundaries(self):
        def result(due):
            return engine.inspection_actions(facts(inspection_ncs=[(9, due)]), CTX).result

        assert result(TODAY) == Result.DUE_SOON
        assert result(TODAY - dt.timedelta(days=1)) == Result.OVERDUE
        assert result(TODAY + dt.timedelta(days=31)) == Result.OK


def test_overdue_actions():
    assert engine.overdue_actions(facts(), CTX).result == Result.OK
    assert engine.overdue_actions(facts(actions_due_soon=1), CTX).result == Result.DUE_SOON
    assert engine.overdue_actions(facts(actions_overdue=2, actions_due_soon=1), CTX).result == Result.OVERDUE


def test_document_reviews():
    assert engine.document_reviews(facts(), CTX).result == Result.OK
    assert engine.document_reviews(facts(documents_due_soon=3), CTX).result == Result.DUE_SOON
    assert engine.document_reviews(facts(documents_overdue=1), CTX).result == Result.OVERDUE


class TestCertification:
    def test_not_certified_is_not_applicable(self):
        assert engine.certification(facts(), CTX).result == Result.NOT_APPLICABLE

    def test_surveillance_twelve_months_after_issue_or_last_audit(self):
        cert = [(1, dt.date(2025, 11, 21), dt.date(2028, 11, 20))]
        assert engine.certification(facts(certificates=cert), CTX).result == Result.DUE_SOON  # due today
        late = [(1, dt.date(2025, 11, 20), dt.date(2028, 11, 19))]
        assert engine.certification(facts(certificates=late), CTX).result == Result.OVERDUE  # one day over
        surveilled = facts(certificates=late, certificate_audits={1: [("surveillance", dt.date(2026, 10, 1))]})
        check = engine.certification(surveilled, CTX)
        assert check.result == Result.OK and check.due_on == dt.date(2027, 10, 1)

    def test_recertification(self):
        ending = [(1, dt.date(2023, 12, 1), dt.date(2026, 11, 30))]
        surveilled = {1: [("surveillance", dt.date(2025, 12, 1))]}
        check = engine.certification(facts(certificates=ending, certificate_audits=surveilled), CTX)
        assert check.result == Result.DUE_SOON and check.due_on == dt.date(2026, 11, 30)
        expired = [(1, dt.date(2023, 11, 20), dt.date(2026, 11, 20))]
        assert engine.certification(facts(certificates=expired), CTX).result == Result.OVERDUE


def test_data_calls_not_applicable_until_one_is_sent():
    assert engine.data_calls(facts(), CTX).result == Result.NOT_APPLICABLE


class TestConfirmation:
    def test_confirmed_this_year(self):
        assert engine.confirmation(facts(reviews=[(1, dt.date(2026, 1, 5), 2026, True)]), CTX).result == Result.OK

    def test_last_year_confirmed_and_year_end_approaching(self):
        check = engine.confirmation(facts(reviews=[(1, dt.date(2025, 12, 10), 2025, True)]), CTX)
        assert check.result == Result.OK and check.due_on == dt.date(2026, 12, 31)  # 40 days away
        december = Context(dt.date(2026, 12, 1), 30)
        assert engine.confirmation(facts(reviews=[(1, dt.date(2025, 12, 10), 2025, True)]), december).result == \
            Result.DUE_SOON

    def test_last_year_missing_is_overdue(self):
        assert engine.confirmation(facts(reviews=[(1, dt.date(2025, 12, 10), 2025, False)]), CTX).result == \
            Result.OVERDUE


def test_level_follows_the_worst_check():
    ok = engine.Check("a", Result.OK, "")
    soon = engine.Check("b", Result.DUE_SOON, "")
    late = engine.Check("c", Result.OVERDUE, "")
    na = engine.Check("d", Result.NOT_APPLICABLE, "")
    assert engine.level_of([ok, na]) == "green"
    assert engine.level_of([ok, soon, na]) == "amber"
    assert engine.level_of([ok, soon, late]) == "red"


def test_every_rule_is_declared_once():
    keys = [key for key, _label, _rule in engine.RULES]
    assert len(keys) == len(set(keys)) == 11
