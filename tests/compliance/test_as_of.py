"""A past day judged with what was true that day: rule sets by date, merged and new agencies, the
yearly report counted from the same evaluation as the comparison, and the command line."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from tests.compliance.test_engine import populate
from tests.compliance.test_scenarios import Builder, declared

BEFORE_MERGER = dt.date(2025, 2, 15)  # the world's a-old merges into a1 on 01/03/2025


def test_the_rule_set_in_force_on_the_day_judges_it(app, world, system_scope, monkeypatch):
    from govqms.compliance import engine

    assert engine.rule_set_on(dt.date(2024, 6, 1)) is engine.QD19_2014
    with pytest.raises(engine.NoRuleSet):
        engine.rule_set_on(dt.date(2014, 4, 19))  # before QĐ 19/2014 took effect
    # a text replacing QĐ 19/2014 from 2027 is a new set; the old one ends the day before
    old = engine.RuleSet(**{**engine.QD19_2014.__dict__, "applies_until": dt.date(2026, 12, 31)})
    replacement = engine.RuleSet(key="future-2027", title="x", legal_texts=(), applies_from=dt.date(2027, 1, 1),
                                 applies_until=None, rules=engine.QD19_2014.rules[:2])
    monkeypatch.setattr(engine, "RULE_SETS", [old, replacement])
    a2 = world.tenant_ids["a2"]
    judged_2026 = engine.evaluate([a2], dt.date(2026, 12, 31))[a2]
    judged_2027 = engine.evaluate([a2], dt.date(2027, 1, 2))[a2]
    assert judged_2026.rule_set.key == "qd19-2014" and len(judged_2026.checks) == len(engine.QD19_2014.rules)
    assert judged_2027.rule_set.key == "future-2027"
    assert [c.rule for c in judged_2027.checks] == ["internal_audit", "management_review"]


def test_every_rule_names_its_legal_basis():
    from govqms.compliance import engine

    for rule_set in engine.RULE_SETS:
        assert rule_set.legal_texts and rule_set.applies_from
        keys = [rule.key for rule in rule_set.rules]
        assert len(keys) == len(set(keys))
        assert all(str(rule.basis) for rule in rule_set.rules)


def _records_for_a_old(db, world):
    from govqms.tenancy.models import Tenant

    a_old = db.session.get(Tenant, world.tenant_ids["a_old"])
    builder = Builder(db, a_old.id, a_old.jurisdiction_id)
    for record in [("audit", dt.date(2024, 10, 1)), ("review", dt.date(2024, 12, 10), dt.date(2024, 12, 10)),
                   declared(dt.date(2022, 1, 1))]:
        builder.add(record)
    db.session.commit()
    return a_old


def test_a_merged_agency_is_judged_like_any_other_before_its_merger(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.oversight import comparison
    from govqms.tenancy.models import Jurisdiction

    _records_for_a_old(db, world)
    p1 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p1))
    before = {r.tenant.slug: r for r in comparison.compare(p1, BEFORE_MERGER)}
    assert before["a-old"].level == "green" and before["a-old"].edition == "2015"
    assert before["a-old"].last_audit == dt.date(2024, 10, 1)
    after = {r.tenant.slug for r in comparison.compare(p1, dt.date(2025, 3, 1))}
    assert "a-old" not in after  # history from the day of its merger
    # the overseer's page (row-level security on PostgreSQL) shows the same
    page = login_as("p1_overseer").get(f"/o/{world.p1}/?on=15/02/2025")
    row = page.text.split('<tr data-agency="a-old"', 1)[1].split("</tr>", 1)[0]
    assert 'data-level="green"' in row or "text-bg-success" in row


def test_an_agency_is_not_judged_before_it_was_established(world, system_scope):
    from govqms.extensions import db
    from govqms.oversight import comparison
    from govqms.tenancy.models import Jurisdiction, Tenant

    db.session.get(Tenant, world.tenant_ids["a2"]).established_on = dt.date(2025, 7, 1)
    db.session.commit()
    p1 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p1))
    assert "a2" not in {r.tenant.slug for r in comparison.compare(p1, dt.date(2025, 6, 30))}
    assert "a2" in {r.tenant.slug for r in comparison.compare(p1, dt.date(2025, 7, 1))}


def test_the_yearly_report_counts_from_the_comparison_of_its_day(world, system_scope):
    """2024 includes the agency merged in 2025; the report's figures are the comparison's for 31/12/2024."""
    from govqms.extensions import db
    from govqms.oversight import comparison, report
    from govqms.tenancy.models import Jurisdiction

    _records_for_a_old(db, world)
    populate(db, world.tenant_ids["a2"])
    db.session.commit()
    p1 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p1))
    figures = report.figures(p1, 2024)
    assert figures.on == dt.date(2024, 12, 31)
    rows = comparison.compare(p1, dt.date(2024, 12, 31))
    expected = comparison.counts(rows, dt.date(2024, 12, 31))
    assert {k: figures.counts[k] for k in expected} == expected
    assert {r.tenant.slug for r in figures.rows} == {"a1", "a2", "a-old"}
    assert figures.counts["in_scope"] == 3
    assert figures.counts["audited_this_year"] == 1 and figures.counts["reviewed_this_year"] == 1
    assert figures.counts["confirmed_this_year"] == 1  # a-old's head confirmed 2024 at its review
    assert figures.counts["on_2015"] == 2  # a-old and a2 declared on 2015 in 2022; a1 never declared


def test_compliance_status_command(app, world, system_scope):
    from govqms.extensions import db

    _records_for_a_old(db, world)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["compliance", "status", "vn", "--on", "15/02/2025", "--json", "--lang", "en"])
    assert result.exit_code == 0, result.output
    agencies = json.loads(result.output)
    assert [a["agency"] for a in agencies] == ["b1", "a1", "a2", "a-old"] or \
        {a["agency"] for a in agencies} == {"a1", "a2", "a-old", "b1"}
    by_slug = {a["agency"]: a for a in agencies}
    assert by_slug["a-old"]["level"] == "green"
    first = by_slug["a-old"]["checks"][0]
    assert set(first) >= {"rule", "result", "reason", "due", "records"}
    assert first["rule"] == "internal_audit" and first["result"] == "ok" and first["due"] == "2025-10-01"
    assert first["records"] and first["records"][0]["kind"] == "audit"
    text = runner.invoke(args=["compliance", "status", "p1"])
    assert text.exit_code == 0 and re.search(r"^a2 +(RED|AMBER|GREEN)", text.output, re.M)
    assert "a-old" not in text.output  # merged before today
    assert runner.invoke(args=["compliance", "status", "p1", "--on", "01/01/2010"]).exit_code != 0
    assert runner.invoke(args=["compliance", "status", "nowhere"]).exit_code != 0
    assert runner.invoke(args=["compliance", "status", "p1", "--on", "2025-02-15"]).exit_code != 0


def test_a_certificate_marked_not_renewed_is_history(world, login_as, system_scope):
    from govqms.conformity.models import Certificate
    from govqms.extensions import db

    client = login_as("a1_secretary")
    client.post(f"/t/{world.a1}/conformity/certificates", data={
        "body": "QUACERT", "number": "HT 1187.21", "edition": "2015", "issued_on": "04/05/2021",
        "expires_on": "03/05/2024"})
    certificate = db.session.scalar(select(Certificate).where(Certificate.tenant_id == world.tenant_ids["a1"]))
    status = client.get(f"/t/{world.a1}/status/")
    assert 'data-rule="certification" data-result="overdue"' in status.text
    page = client.get(f"/t/{world.a1}/conformity/")
    assert f"/conformity/certificates/{certificate.id}/end" in page.text and "data-confirm" in page.text
    bad = client.post(f"/t/{world.a1}/conformity/certificates/{certificate.id}/end",
                      data={"end_reason": "lost", "ended_on": "31/02/2024"})
    assert bad.status_code == 400 and "is-invalid" in bad.text
    done = client.post(f"/t/{world.a1}/conformity/certificates/{certificate.id}/end",
                       data={"end_reason": "not_renewed", "ended_on": "03/05/2024"})
    assert done.status_code == 302
    db.session.refresh(certificate)
    assert (certificate.ended_on, certificate.end_reason) == (dt.date(2024, 5, 3), "not_renewed")
    status = client.get(f"/t/{world.a1}/status/")
    assert 'data-rule="certification" data-result="not_applicable"' in status.text
    assert 'data-ended="not_renewed"' in client.get(f"/t/{world.a1}/conformity/").text
    assert login_as("a1_staff").post(f"/t/{world.a1}/conformity/certificates/{certificate.id}/end", data={
        "end_reason": "withdrawn", "ended_on": "01/01/2025"}).status_code == 403
    other = login_as("b1_secretary").post(f"/t/{world.b1}/conformity/certificates/{certificate.id}/end", data={
        "end_reason": "withdrawn", "ended_on": "01/01/2025"})
    assert other.status_code == 404


def test_a_review_counts_once_held_and_is_confirmed_only_then(world, login_as, system_scope):
    from govqms.core.clock import today
    from govqms.extensions import db
    from govqms.reviews.models import ManagementReview

    client = login_as("a1_secretary")
    planned = today() + dt.timedelta(days=10)
    client.post(f"/t/{world.a1}/reviews/new", data={"year": planned.year, "meeting_on": planned.strftime("%d/%m/%Y"),
                                                     "chair": "Giám đốc"})
    review = db.session.scalar(select(ManagementReview).where(ManagementReview.tenant_id == world.tenant_ids["a1"]))
    assert review.held_on is None
    page = client.get(f"/t/{world.a1}/reviews/{review.id}")
    assert 'data-held=""' in page.text and f"/reviews/{review.id}/held" in page.text
    assert 'data-rule="management_review" data-result="overdue"' in client.get(f"/t/{world.a1}/status/").text
    head = login_as("a1_head")
    head.post(f"/t/{world.a1}/reviews/{review.id}/confirm")
    db.session.refresh(review)
    assert not review.effectiveness_confirmed  # refused: not held yet
    future = client.post(f"/t/{world.a1}/reviews/{review.id}/held", data={"held_on": planned.strftime("%d/%m/%Y")})
    assert future.status_code == 302
    db.session.refresh(review)
    assert review.held_on is None  # a day still to come
    assert client.post(f"/t/{world.a1}/reviews/{review.id}/held", data={"held_on": "x"}).status_code == 400
    client.post(f"/t/{world.a1}/reviews/{review.id}/held", data={"held_on": today().strftime("%d/%m/%Y")})
    db.session.refresh(review)
    assert review.held_on == today()
    assert 'data-rule="management_review" data-result="ok"' in client.get(f"/t/{world.a1}/status/").text
    head.post(f"/t/{world.a1}/reviews/{review.id}/confirm")
    db.session.refresh(review)
    assert review.effectiveness_confirmed and review.confirmed_on == today()


def test_status_page_lists_and_links_the_records_a_check_counted(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    a1 = db.session.get(Tenant, world.tenant_ids["a1"])
    builder = Builder(db, a1.id, a1.jurisdiction_id)
    for record in [("nc", dt.date(2026, 1, 1), dt.date(2026, 2, 1), None, None),
                   ("nc", dt.date(2026, 1, 1), dt.date(2026, 3, 1), None, None)]:
        builder.add(record)
    db.session.commit()
    page = login_as("a1_secretary").get(f"/t/{world.a1}/status/")
    row = page.text.split('data-rule="actions"', 1)[1].split("</tr>", 1)[0]
    assert 'data-records="2"' in row
    assert len(re.findall(r'href="/t/a1/improvement/nonconformities/\d+"', row)) == 2
    assert "ISO 9001" in row  # the legal basis of the rule
