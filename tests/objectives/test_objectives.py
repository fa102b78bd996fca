"""Objectives through the web views: create, measure, evaluate, copy; computed values; policy; dashboard."""
from __future__ import annotations

import io
import re

from sqlalchemy import select

from govqms.core.clock import today
from tests.documents.helpers import PDF

THIS_YEAR = today().year  # the app's year (Vietnam's date)


def create_objective(client, slug, **overrides) -> int:
    data = {"year": str(THIS_YEAR - 1), "statement": "100% hồ sơ giải quyết đúng hạn", "indicator": "Tỷ lệ đúng hạn",
            "comparator": ">=", "target": "100", "unit_of_measure": "%", "frequency": "quarterly", "source": "typed"}
    data.update(overrides)
    response = client.post(f"/t/{slug}/objectives/new", data=data)
    assert response.status_code == 302, response.text[:500]
    return int(re.search(r"/objectives/(\d+)", response.location).group(1))


def measure(client, slug, objective_id, period, value, **extra):
    return client.post(f"/t/{slug}/objectives/{objective_id}/measurements",
                       data={"period_index": str(period), "value": str(value), **extra},
                       content_type="multipart/form-data")


def test_measure_and_status_through_the_views(world, login_as):
    secretary = login_as("a1_secretary")
    objective_id = create_objective(secretary, world.a1)
    for quarter, value in ((1, 100), (2, 100), (3, 97.5), (4, 98)):
        assert measure(secretary, world.a1, objective_id, quarter, value).status_code == 302
    page = secretary.get(f"/t/{world.a1}/objectives/{objective_id}")
    assert "98" in page.text and "98.0%" in page.text  # achievement of the latest value
    listing = secretary.get(f"/t/{world.a1}/objectives/?year={THIS_YEAR - 1}")
    assert "Không đạt" in listing.text  # the year is over and 98 < 100


def test_staff_records_measurements_but_does_not_set_objectives(world, login_as):
    objective_id = create_objective(login_as("a1_secretary"), world.a1)
    staff = login_as("a1_staff")
    assert measure(staff, world.a1, objective_id, 1, 100).status_code == 302
    assert staff.post(f"/t/{world.a1}/objectives/new", data={"year": "2025"}).status_code == 403
    assert measure(login_as("p1_overseer"), world.a1, objective_id, 2, 100).status_code == 403


def test_bad_measurements_are_refused_and_kept_in_the_form(world, login_as):
    secretary = login_as("a1_secretary")
    objective_id = create_objective(secretary, world.a1, year=str(THIS_YEAR + 1))
    future = measure(secretary, world.a1, objective_id, 1, 100)
    assert future.status_code == 400  # the period has not started
    objective_id = create_objective(secretary, world.a1)
    not_a_number = measure(secretary, world.a1, objective_id, 1, "nhiều")
    assert not_a_number.status_code == 400 and 'value="nhiều"' in not_a_number.text


def test_evidence_is_checked_stored_and_served(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.objectives.models import Measurement

    secretary = login_as("a1_secretary")
    objective_id = create_objective(secretary, world.a1)
    response = measure(secretary, world.a1, objective_id, 1, 100, evidence=(io.BytesIO(PDF), "bien-ban.pdf"))
    assert response.status_code == 302
    stored = db.session.scalar(select(Measurement).where(Measurement.objective_id == objective_id))
    assert stored.evidence_name == "bien-ban.pdf"
    assert secretary.get(f"/t/{world.a1}/objectives/evidence/{stored.id}").data == PDF
    refused = measure(secretary, world.a1, objective_id, 2, 100, evidence=(io.BytesIO(b"MZ"), "x.pdf"))
    assert refused.status_code == 400


def test_computed_objective_fills_in_from_service_results(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.performance.models import SatisfactionSurvey, ServiceResult

    year = THIS_YEAR - 1
    db.session.add_all([
        ServiceResult.of_month(tenant_id=world.tenant_ids["a1"], year=year, month=1, procedure_code="", received=10,
                      resolved_early=2, resolved_on_time=8, resolved_late=0, pending=0),
        ServiceResult.of_month(tenant_id=world.tenant_ids["a1"], year=year, month=2, procedure_code="", received=10,
                      resolved_early=0, resolved_on_time=9, resolved_late=1, pending=0),
        ServiceResult.of_month(tenant_id=world.tenant_ids["a1"], year=year, month=3, procedure_code="P1", received=20,
                      resolved_early=0, resolved_on_time=20, resolved_late=0, pending=0),
        SatisfactionSurvey(tenant_id=world.tenant_ids["a1"], year=year, month=1, responses=54, satisfied=54),
    ])
    db.session.commit()
    client = login_as("a1_secretary")
    on_time = create_objective(client, world.a1, source="on_time_rate", frequency="quarterly")
    page = client.get(f"/t/{world.a1}/objectives/{on_time}")
    assert "97.5" in page.text  # Q1: (2 + 8 + 0 + 9 + 0 + 20) / 40 = 97.5%
    assert measure(client, world.a1, on_time, 1, 100).status_code == 400  # computed values are not typed
    satisfaction = create_objective(client, world.a1, source="satisfaction_rate", frequency="monthly", target="95")
    assert "100" in client.get(f"/t/{world.a1}/objectives/{satisfaction}").text  # 54/54 in January


def test_evaluations_keep_the_result_of_their_moment(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.objectives.models import Evaluation

    client = login_as("a1_secretary")
    objective_id = create_objective(client, world.a1)
    for quarter, value in ((1, 100), (2, 90), (3, 100), (4, 100)):
        measure(client, world.a1, objective_id, quarter, value)
    client.post(f"/t/{world.a1}/objectives/{objective_id}/evaluations",
                data={"kind": "half_year", "comment": "Q2 thấp"})
    client.post(f"/t/{world.a1}/objectives/{objective_id}/evaluations", data={"kind": "year_end"})
    evaluations = {e.kind: e for e in db.session.scalars(select(Evaluation).where(
        Evaluation.objective_id == objective_id))}
    assert (evaluations["half_year"].status, evaluations["half_year"].value) == ("at_risk", 90)
    assert (evaluations["year_end"].status, evaluations["year_end"].value) == ("on_track", 100)
    refused = client.post(f"/t/{world.a1}/objectives/{create_objective(client, world.a1, year=str(THIS_YEAR + 1))}"
                          "/evaluations", data={"kind": "year_end"})
    assert refused.status_code == 409  # a year that has not ended


def test_copy_a_year_into_the_next(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.objectives.models import Objective

    client = login_as("a1_secretary")
    create_objective(client, world.a1, year="2024", statement="Mục tiêu A")
    create_objective(client, world.a1, year="2024", statement="Mục tiêu B")
    assert client.get(f"/t/{world.a1}/objectives/copy?year=2024").status_code == 200  # confirmation
    client.post(f"/t/{world.a1}/objectives/copy?year=2024")
    client.post(f"/t/{world.a1}/objectives/copy?year=2024")  # twice: nothing doubled
    copied = db.session.scalars(select(Objective.statement).where(
        Objective.tenant_id == world.tenant_ids["a1"], Objective.year == 2025)).all()
    assert sorted(copied) == ["Mục tiêu A", "Mục tiêu B"]


def test_policy_versions(world, login_as):
    client = login_as("a1_head")
    assert "Chưa ghi nhận chính sách chất lượng" in client.get(f"/t/{world.a1}/policy/").text
    for issued_on, text in (("01/01/2020", "Chính sách cũ"), ("15/06/2024", "Chính sách mới")):
        response = client.post(f"/t/{world.a1}/policy/", data={"text": text, "issued_on": issued_on,
                                                               "issued_by": "Giám đốc Sở", "posted": "1"})
        assert response.status_code == 302
    page = client.get(f"/t/{world.a1}/policy/")
    assert page.text.index("Chính sách mới") < page.text.index("15/06/2024")
    assert "01/01/2020" in page.text  # the earlier version is listed
    assert login_as("a1_staff").post(f"/t/{world.a1}/policy/", data={"text": "x"}).status_code == 403


def test_dashboard_is_a_fixed_number_of_queries(world, login_as, count_queries, system_scope):
    from govqms.extensions import db
    from govqms.objectives.models import Measurement, Objective
    from govqms.performance.models import ServiceResult

    client = login_as("a1_secretary")
    url = f"/t/{world.a1}/dashboard/?year={THIS_YEAR - 1}"

    def queries():
        client.get(url)
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    def add(n):
        for i in range(n):
            objective = Objective(tenant_id=world.tenant_ids["a1"], year=THIS_YEAR - 1, statement=f"Mục tiêu {i}",
                                  indicator="x", comparator=">=", target=100, frequency="monthly",
                                  source=("typed", "on_time_rate", "satisfaction_rate")[i % 3])
            db.session.add(objective)
            db.session.flush()
            db.session.add_all([Measurement(tenant_id=world.tenant_ids["a1"], objective_id=objective.id,
                                            period_index=p, value=99) for p in range(1, 13)])
        db.session.commit()

    add(3)
    few = queries()
    add(30)
    db.session.add_all([ServiceResult.of_month(tenant_id=world.tenant_ids["a1"], year=THIS_YEAR - 1, month=m,
                                      procedure_code=f"P{p}", received=1, resolved_early=0, resolved_on_time=1,
                                      resolved_late=0, pending=0) for m in range(1, 13) for p in range(20)])
    db.session.commit()
    assert queries() == few


def test_dashboard_export(world, login_as):
    client = login_as("a1_secretary")
    create_objective(client, world.a1)
    response = client.post(f"/t/{world.a1}/dashboard/export", data={"year": str(THIS_YEAR - 1)})
    data = client.get(response.location + "/download")
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data.data))
    assert book.worksheets[0]["A2"].value == "100% hồ sơ giải quyết đúng hạn"
    assert len(book.worksheets) == 2


def test_new_agency_gets_starter_objectives(app, world, system_scope):
    from govqms.extensions import db
    from govqms.objectives.models import Objective
    from govqms.tenancy import provisioning, sync
    from govqms.tenancy.manifests import load_kinds
    from govqms.tenancy.models import Tenant
    from tests.tenancy.test_manifests import GOOD

    sync.apply(provisioning.plan_texts([("t.yaml", GOOD)]), invite=False)
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "tt-so-khcn"))
    objectives = db.session.scalars(select(Objective).where(Objective.tenant_id == tenant.id)).all()
    template = load_kinds()["science_technology"]["objectives"]
    assert sorted(o.statement for o in objectives) == sorted(t["statement"] for t in template)
    assert {o.source for o in objectives} >= {"on_time_rate"}
