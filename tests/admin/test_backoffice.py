"""The operators' back office: every page answers, manifests are previewed before they apply,
merges are confirmed, changes are logged."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from tests.tenancy.test_manifests import GOOD


@pytest.fixture
def operator(login_as):
    return login_as("operator")


def test_every_back_office_page_answers(app, operator):
    rules = [r for r in app.url_map.iter_rules()
             if r.rule.startswith("/admin") and "<" not in r.rule and "GET" in r.methods
             and "/ajax/" not in r.rule]  # ajax lookups answer queries, not page visits
    assert len(rules) > 20
    for rule in rules:
        response = operator.get(rule.rule)
        assert response.status_code in (200, 302), f"{rule.rule} -> {response.status_code}"


def test_back_office_speaks_vietnamese_and_english(operator):
    assert "Tải lên tệp khai báo" in operator.get("/admin/").text
    operator.post("/language", data={"locale": "en"})
    assert "Agencies" in operator.get("/admin/tenant/").text


def test_manifest_upload_previews_then_applies(operator, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    preview = operator.post("/admin/manifest/", data={"manifest": (io.BytesIO(GOOD.encode()), "tinh-thu.yaml")},
                            content_type="multipart/form-data")
    assert preview.status_code == 200 and "tt-so-khcn" in preview.text
    assert db.session.scalar(select(Tenant).where(Tenant.slug == "tt-so-khcn")) is None  # preview only
    applied = operator.post("/admin/manifest/", data={"text": GOOD, "filename": "tinh-thu.yaml", "apply": "1"})
    assert applied.status_code == 200 and "/invite/" in applied.text
    assert db.session.scalar(select(Tenant).where(Tenant.slug == "tt-so-khcn")) is not None
    again = operator.post("/admin/manifest/", data={"manifest": (io.BytesIO(GOOD.encode()), "tinh-thu.yaml")},
                          content_type="multipart/form-data")
    assert "Không có gì cần thay đổi" in again.text  # the second upload finds nothing to do


def test_bad_manifest_upload_lists_problems_and_writes_nothing(operator, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    bad = GOOD.replace("kind: science_technology", "kind: rocket_science").replace("2025-03-01", "2025-02-30")
    page = operator.post("/admin/manifest/", data={"manifest": (io.BytesIO(bad.encode()), "bad.yaml")},
                         content_type="multipart/form-data")
    assert "tenants[0].kind" in page.text and "tenants[1].merged_on" in page.text
    forced = operator.post("/admin/manifest/", data={"text": bad, "filename": "bad.yaml", "apply": "1"})
    assert "tenants[0].kind" in forced.text
    assert db.session.scalar(select(Tenant).where(Tenant.slug == "tt-so-khcn")) is None


def test_merge_through_the_back_office_with_confirmation(operator, world, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant, TenantMerge

    a2 = db.session.scalar(select(Tenant).where(Tenant.slug == world.a2))
    a1 = db.session.scalar(select(Tenant).where(Tenant.slug == world.a1))
    form = {"source": str(a2.id), "successor": str(a1.id), "merged_on": "01/06/2025"}
    preview = operator.post("/admin/merge/", data=form)
    assert preview.status_code == 200 and "Sở Y tế Một" in preview.text
    db.session.expire_all()
    assert db.session.get(Tenant, a2.id).status == "active"  # not yet
    done = operator.post("/admin/merge/", data={**form, "confirm": "1"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Tenant, a2.id).status == "merged"
    record = db.session.scalar(select(TenantMerge).where(TenantMerge.source_id == a2.id))
    undo = operator.post("/admin/tenantmerge/action/", data={"action": "unmerge", "rowid": str(record.id)})
    assert undo.status_code == 302
    db.session.expire_all()
    assert db.session.get(Tenant, a2.id).status == "active"


def test_operator_changes_are_logged_with_the_operator(operator, world, system_scope):
    from govqms.accounts.models import User
    from govqms.core.activity import ActivityEntry
    from govqms.extensions import db

    staff = db.session.scalar(select(User).where(User.email == world.email("a1_staff")))
    response = operator.post(f"/admin/user/edit/?id={staff.id}",
                             data={"name": "Công Chức Đổi Tên", "active": "y", "locale": "vi"})
    assert response.status_code == 302
    entry = db.session.scalars(select(ActivityEntry).where(ActivityEntry.entity == "user",
                                                           ActivityEntry.entity_id == str(staff.id))
                               .order_by(ActivityEntry.id.desc())).first()
    assert entry.actor_label == world.email("operator")
    assert entry.changes["name"][1] == "Công Chức Đổi Tên"


def test_invitation_action_shows_a_link(operator, world, system_scope):
    from govqms.accounts.models import User
    from govqms.extensions import db

    staff = db.session.scalar(select(User).where(User.email == world.email("a1_staff")))
    response = operator.post("/admin/user/action/", data={"action": "invite", "rowid": str(staff.id)},
                             follow_redirects=True)
    assert "/invite/" in response.text


def test_membership_created_in_back_office(operator, world, system_scope):
    from govqms.accounts.models import User
    from govqms.extensions import db
    from govqms.tenancy.models import Membership, Tenant

    staff = db.session.scalar(select(User).where(User.email == world.email("a1_staff")))
    b1 = db.session.scalar(select(Tenant).where(Tenant.slug == world.b1))
    response = operator.post("/admin/membership/new/", data={"user": str(staff.id), "tenant": str(b1.id),
                                                             "role": "viewer"})
    assert response.status_code == 302
    assert db.session.scalar(select(Membership).where(Membership.user_id == staff.id,
                                                      Membership.tenant_id == b1.id)) is not None


def test_failed_scheduled_job_is_visible_and_can_be_run_again(operator, world, system_scope, monkeypatch):
    from govqms.extensions import db
    from govqms.jobs.models import Job
    from govqms.notifications import tasks

    def broken(mode, handle=None):
        raise RuntimeError("SMTP relay unreachable")

    monkeypatch.setattr(tasks.services, "send_pending", broken)
    response = operator.post("/admin/job_schedule/", data={"task": "notifications.reminders"})
    assert response.status_code == 302
    failed = db.session.scalar(select(Job).where(Job.task == "notifications.reminders"))
    assert failed.status == "failed"
    page = operator.get("/admin/job_schedule/")
    assert f'data-failed="{failed.id}"' in page.text and "SMTP relay unreachable" in page.text
    assert 'data-testid="failed-jobs"' in operator.get("/admin/").text
    monkeypatch.undo()
    operator.post("/admin/job_schedule/", data={"task": "notifications.reminders"})
    page = operator.get("/admin/job_schedule/")
    row = page.text.split('data-task="notifications.reminders"')[1].split("</tr>")[0]
    assert "finished" in row
    assert operator.post("/admin/job_schedule/", data={"task": "activity.export_csv"}).status_code == 302
    assert db.session.scalar(select(db.func.count()).select_from(Job).where(Job.task == "activity.export_csv")) == 0


def test_merge_form_names_the_field_in_error_and_keeps_the_input(operator, world, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    a2 = db.session.scalar(select(Tenant).where(Tenant.slug == world.a2))
    page = operator.post("/admin/merge/", data={"source": str(a2.id), "successor": "", "merged_on": "31/02/2025"})
    assert page.status_code == 200
    assert "Vui lòng chọn cả hai cơ quan" in page.text  # the summary, as before
    assert 'id="e-successor"' in page.text and 'id="e-merged_on"' in page.text and 'id="e-source"' not in page.text
    assert f'<option value="{a2.id}" selected>' in page.text  # what was chosen stays chosen
    assert "Trường này là bắt buộc." in page.text  # the successor's own message
    db.session.expire_all()
    assert db.session.get(Tenant, a2.id).status == "active"


def test_merge_form_refuses_an_agency_that_does_not_exist(operator, world, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    a1 = db.session.scalar(select(Tenant).where(Tenant.slug == world.a1))
    for missing in ("999999", str(2**40), "-3", "abc"):
        page = operator.post("/admin/merge/", data={"source": missing, "successor": str(a1.id),
                                                    "merged_on": "01/06/2025", "confirm": "1"})
        assert page.status_code == 200, missing
        assert 'id="e-source"' in page.text and 'id="e-successor"' not in page.text, missing


def test_merge_refused_shows_the_form_again(operator, world, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    a1 = db.session.scalar(select(Tenant).where(Tenant.slug == world.a1))
    page = operator.post("/admin/merge/", data={"source": str(a1.id), "successor": str(a1.id),
                                                "merged_on": "01/06/2025", "confirm": "1"})
    assert page.status_code == 200 and f'<option value="{a1.id}" selected>' in page.text
    db.session.expire_all()
    assert db.session.get(Tenant, a1.id).status == "active"


def test_run_now_of_a_job_not_on_the_schedule_is_refused(operator, system_scope):
    from govqms.extensions import db
    from govqms.jobs.models import Job

    for data in ({}, {"task": "activity.export_csv"}):
        page = operator.post("/admin/job_schedule/", data=data, follow_redirects=True)
        assert "Hãy chọn một tác vụ trong lịch." in page.text
    assert db.session.scalar(select(db.func.count()).select_from(Job)) == 0


def test_hand_made_manifest_post_is_answered_not_applied(operator, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    page = operator.post("/admin/manifest/", data={"text": GOOD, "filename": "tinh-thu.yaml", "apply": "maybe"})
    assert page.status_code == 200
    assert db.session.scalar(select(Tenant).where(Tenant.slug == "tt-so-khcn")) is None
    empty = operator.post("/admin/manifest/", data={"text": "", "filename": "x.yaml"})
    assert empty.status_code == 200 and "tt-so-khcn" not in empty.text
