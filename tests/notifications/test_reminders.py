"""Reminders: computed from due dates, told to the right people, never twice — even when the job
crashes and is retried — and emailed at once or in a daily digest, in each user's language."""
from __future__ import annotations

import datetime as dt
import re
from email.header import decode_header, make_header

import pytest
from sqlalchemy import func, select


def _user(world, handle):
    from govqms.accounts.models import User
    from govqms.extensions import db

    return db.session.scalar(select(User).where(User.email == world.email(handle)))


def _notes(user, kind=None):
    from govqms.extensions import db
    from govqms.notifications.models import Notification

    query = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return db.session.scalars(query).all()


def _subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _body(message) -> str:
    return message.get_payload(decode=True).decode("utf-8")


@pytest.fixture
def action_due(world, system_scope):
    """An action of agency a1 owned by its staff member, due in *days*."""
    from govqms.core.clock import today
    from govqms.extensions import db
    from govqms.improvement.services import add_action

    def make(days: int, owner="a1_staff", description="Cập nhật quy trình tiếp nhận hồ sơ"):
        owner_id = _user(world, owner).id if owner else None
        action = add_action(world.tenant_ids["a1"], description=description, owner_id=owner_id,
                            due_on=today() + dt.timedelta(days=days))
        db.session.commit()
        return action

    return make


@pytest.mark.parametrize("days_left, step", [(45, None), (30, "before-30"), (12, "before-30"), (7, "before-7"),
                                             (2, "before-7"), (1, "before-1"), (0, "due"), (-1, "overdue"),
                                             (-400, "overdue")])
def test_the_step_is_the_nearest_reminder_day_reached(days_left, step):
    from govqms.notifications.reminders import step_for

    today = dt.date(2026, 11, 21)
    assert step_for(today + dt.timedelta(days=days_left), today, [30, 7, 1]) == step


def test_the_owner_is_reminded_once_per_step(app, world, action_due, system_scope):
    from govqms.core.clock import today
    from govqms.extensions import db
    from govqms.notifications.reminders import remind

    action = action_due(5)
    ids = [world.tenant_ids["a1"], world.tenant_ids["b1"]]
    assert remind(ids, today()) >= 1
    assert remind(ids, today()) == 0  # the same day again: nobody is told twice
    db.session.commit()
    staff = _user(world, "a1_staff")
    (note,) = _notes(staff, "action")
    assert note.step == "before-7" and note.event_key == f"action:{action.id}:{action.due_on.isoformat()}"
    # Nobody else is told before the due date; b1 knows nothing of a1's action.
    assert not _notes(_user(world, "a1_secretary"), "action") and not _notes(_user(world, "b1_secretary"), "action")
    # Two days later the 1-day step applies: a new notification.
    remind(ids, today() + dt.timedelta(days=4))
    assert [n.step for n in _notes(staff, "action")] == ["before-7", "before-1"]


def test_overdue_escalates_to_the_secretary_and_the_head(app, world, action_due, system_scope):
    from govqms.core.clock import today
    from govqms.notifications.reminders import remind

    action_due(-3)
    remind([world.tenant_ids["a1"]], today())
    for handle in ("a1_staff", "a1_secretary", "a1_head"):
        (note,) = _notes(_user(world, handle), "action")
        assert note.step == "overdue"
    assert not _notes(_user(world, "a1_viewer"), "action")


def test_without_an_owner_the_iso_secretary_is_reminded(app, world, action_due, system_scope):
    from govqms.core.clock import today
    from govqms.notifications.reminders import remind

    action_due(0, owner=None)
    remind([world.tenant_ids["a1"]], today())
    (note,) = _notes(_user(world, "a1_secretary"), "action")
    assert note.step == "due"
    assert not _notes(_user(world, "a1_head"), "action")


def test_a_new_due_date_starts_new_reminders(app, world, action_due, system_scope):
    from govqms.core.clock import today
    from govqms.extensions import db
    from govqms.notifications.reminders import remind

    action = action_due(3)
    remind([world.tenant_ids["a1"]], today())
    action.due_on = today() + dt.timedelta(days=6)
    db.session.commit()
    remind([world.tenant_ids["a1"]], today())
    assert [n.step for n in _notes(_user(world, "a1_staff"), "action")] == ["before-7", "before-7"]


def test_documents_data_calls_rules_and_inspection_reports_are_reminded(app, world, system_scope):
    from govqms.conformity.models import Declaration
    from govqms.core.clock import today
    from govqms.datacalls.models import DataCall, DataCallReply
    from govqms.documents.models import Document
    from govqms.extensions import db
    from govqms.inspections.models import Inspection, InspectionPlan
    from govqms.notifications.reminders import remind
    from govqms.tenancy.models import Jurisdiction

    a1 = world.tenant_ids["a1"]
    day = today()
    db.session.add(Document(tenant_id=a1, code="QT-01", title="Quy trình kiểm soát tài liệu", kind="system_procedure",
                            status="effective", next_review_on=day + dt.timedelta(days=1)))
    p1 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p1))
    call = DataCall(jurisdiction_id=p1.id, title="Báo cáo năm", deadline=day + dt.timedelta(days=7), sent_on=day)
    plan = InspectionPlan(jurisdiction_id=p1.id, year=day.year)
    db.session.add_all([call, plan])
    db.session.flush()
    db.session.add_all([DataCallReply(tenant_id=a1, call_id=call.id),
                        Inspection(tenant_id=a1, plan_id=plan.id, report_due_on=day - dt.timedelta(days=1))])
    # declared on the 2008 edition: the transition deadline of 2021 has long passed
    db.session.add(Declaration(tenant_id=a1, decision_number="1/QĐ", decided_on=dt.date(2017, 3, 1), edition="2008",
                               dost_notified_on=dt.date(2017, 3, 5), posted_on=dt.date(2017, 3, 2),
                               published_on=dt.date(2017, 3, 2)))
    db.session.commit()
    remind([a1], day)
    secretary = _user(world, "a1_secretary")
    kinds = {n.kind: n for n in _notes(secretary)}
    assert kinds["document_review"].step == "before-1"
    assert kinds["data_call"].step == "before-7"
    rules = {n.params["rule"]: n.step for n in _notes(secretary, "rule")}
    assert rules["edition"] == "overdue"
    assert {n.kind for n in _notes(_user(world, "a1_head"))} == {"rule"}  # escalated, the rest not yet due
    (report,) = _notes(_user(world, "p1_overseer"), "inspection_report")
    assert report.step == "overdue" and report.link_args["jurisdiction_code"] == world.p1
    assert not _notes(_user(world, "p2_overseer"))


def test_reminders_cost_a_fixed_number_of_queries(app, world, action_due, system_scope, count_queries):
    from govqms.core.clock import today
    from govqms.notifications.reminders import remind

    ids = [world.tenant_ids["a1"], world.tenant_ids["a2"], world.tenant_ids["b1"]]
    action_due(2)
    with count_queries() as few:
        remind(ids, today())
    for n in range(15):
        action_due(n - 5, description=f"Việc {n}")
    with count_queries() as many:
        remind(ids, today() + dt.timedelta(days=1))
    assert many.count == few.count


def test_a_retried_job_tells_nobody_twice(app, world, action_due, system_scope, smtp_sink, monkeypatch):
    """The worker dies after the reminders are recorded, then again in the middle of sending:
    each retry picks up where it stopped and every user gets one notification and one email."""
    from govqms.core.db import utcnow
    from govqms.extensions import db
    from govqms.jobs.models import Job
    from govqms.jobs.services import enqueue, run_job
    from govqms.notifications import services, tasks
    from govqms.notifications.models import DeliveryMode, EmailState, Notification

    action_due(7)
    real_send, real_finish = services.send_pending, services._finish
    crashes = {"send_pending": 1, "finish": 1}

    def send_pending(mode, handle=None):
        if crashes["send_pending"]:
            crashes["send_pending"] -= 1
            raise RuntimeError("worker lost before the emails")
        return real_send(mode, handle)

    def finish(ids, error):
        if crashes["finish"]:
            crashes["finish"] -= 1
            raise RuntimeError("worker lost after the SMTP server took the message")
        return real_finish(ids, error)

    monkeypatch.setattr(tasks.services, "send_pending", send_pending)
    monkeypatch.setattr(services, "_finish", finish)
    job = enqueue("notifications.reminders", tenant_id=None, user_id=None)
    assert job.status == "failed" and "worker lost before the emails" in job.error
    staff = _user(world, "a1_staff")
    (note,) = _notes(staff, "action")
    assert note.email_state == EmailState.PENDING
    with pytest.raises(RuntimeError):
        run_job(job.id)  # the retry sends the first email, then dies before recording it
    run_job(job.id)  # and the next retry finishes
    job = db.session.get(Job, job.id)
    assert job.status == "finished" and job.attempts == 3
    # its summary counts what all three attempts did: every notification recorded, every email the
    # SMTP server took and the job recorded as sent (the interrupted one is not, yet)
    recorded = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.created_by_job == job.id))
    assert recorded >= 1 and re.findall(r"\d+", job.message) == [str(recorded), str(len(smtp_sink.wait(1)) - 1)]
    run_job(job.id)  # a finished job run again does nothing
    enqueue("notifications.reminders", tenant_id=None, user_id=None)  # nor does tomorrow's run, today
    assert len(_notes(staff, "action")) == 1
    to_staff = [m for m in smtp_sink.wait(1) if m["To"] == staff.email]
    assert len(to_staff) == 1
    # The one whose sender died after sending stays "sending" while its claim is fresh; once stale it
    # is sent again, with the same Message-ID (at least once; a duplicate is recognisable).
    states = dict(db.session.execute(select(Notification.email_state, func.count()).group_by(
        Notification.email_state)).all())
    assert states.get(EmailState.SENDING, 0) == 1 and states.get(EmailState.PENDING, 0) == 0
    (interrupted,) = db.session.scalars(select(Notification).where(Notification.email_state == EmailState.SENDING))
    first = [m for m in smtp_sink if m["To"] == interrupted.user.email]
    assert services.retry_interrupted(utcnow() + services.STALE_CLAIM + dt.timedelta(minutes=1)) == (1, 0)
    assert services.send_pending(DeliveryMode.IMMEDIATE) == 1
    again = [m for m in smtp_sink.wait(len(first) + 1) if m["To"] == interrupted.user.email]
    assert len(again) == len(first) + 1 and again[-1]["Message-ID"] == first[-1]["Message-ID"]
    assert db.session.get(Notification, interrupted.id).email_state == EmailState.SENT


def test_email_is_in_the_users_language(app, world, action_due, system_scope, smtp_sink):
    from govqms.core.clock import today
    from govqms.extensions import db
    from govqms.notifications.models import DeliveryMode
    from govqms.notifications.reminders import remind
    from govqms.notifications.services import send_pending

    english = _user(world, "a1_staff")
    english.locale = "en"
    action = action_due(0)
    action_due(0, owner="a1_auditor", description="Đào tạo chuyên gia đánh giá nội bộ")
    remind([world.tenant_ids["a1"]], today())
    db.session.commit()
    assert send_pending(DeliveryMode.IMMEDIATE) >= 2
    by_user = {m["To"]: m for m in smtp_sink.wait(2)}
    message = by_user[english.email]
    assert _subject(message).startswith("GovQMS: Sở Khoa học và Công nghệ Một: Due today")
    body = _body(message)
    assert action.description in body and f"/t/{world.a1}/improvement/" in body
    vietnamese = by_user[_user(world, "a1_auditor").email]
    assert "Đến hạn hôm nay" in _subject(vietnamese) and "Đào tạo chuyên gia đánh giá nội bộ" in _body(vietnamese)


def test_digest_users_get_one_email_a_day(app, world, action_due, system_scope, smtp_sink):
    from govqms.core.clock import today
    from govqms.extensions import db
    from govqms.notifications.models import DeliveryMode, EmailState
    from govqms.notifications.reminders import remind
    from govqms.notifications.services import send_pending

    staff = _user(world, "a1_staff")
    staff.notify_mode = DeliveryMode.DIGEST
    action_due(0, description="Việc thứ nhất")
    action_due(1, description="Việc thứ hai")
    remind([world.tenant_ids["a1"]], today())
    db.session.commit()
    send_pending(DeliveryMode.IMMEDIATE)
    assert not [m for m in smtp_sink.wait(1, timeout=0.3) if m["To"] == staff.email]
    assert send_pending(DeliveryMode.DIGEST) == 1
    (digest,) = [m for m in smtp_sink.wait(1) if m["To"] == staff.email]
    assert "Việc thứ nhất" in _body(digest) and "Việc thứ hai" in _body(digest)
    assert {n.email_state for n in _notes(staff, "action")} == {EmailState.SENT}
    assert send_pending(DeliveryMode.DIGEST) == 0


def test_a_refused_send_is_tried_again_then_reported(app, world, action_due, system_scope, monkeypatch):
    from govqms.core.clock import today
    from govqms.extensions import db
    from govqms.notifications import services
    from govqms.notifications.models import DeliveryMode, EmailState
    from govqms.notifications.reminders import remind

    app.config["SMTP_URL"] = "smtp://127.0.0.1:9"  # nothing listens there
    try:
        action_due(0)
        remind([world.tenant_ids["a1"]], today())
        db.session.commit()
        for _ in range(services.MAX_EMAIL_ATTEMPTS):
            services.send_pending(DeliveryMode.IMMEDIATE)
    finally:
        app.config["SMTP_URL"] = None
    (note,) = _notes(_user(world, "a1_staff"), "action")
    assert note.email_state == EmailState.FAILED and note.email_attempts == services.MAX_EMAIL_ATTEMPTS
    assert note.email_error


def test_without_mail_notifications_only_reach_the_inbox(app, world, action_due, system_scope):
    from govqms.core.clock import today
    from govqms.notifications.models import EmailState
    from govqms.notifications.reminders import remind

    action_due(0)
    remind([world.tenant_ids["a1"]], today())
    (note,) = _notes(_user(world, "a1_staff"), "action")
    assert note.email_state == EmailState.NONE


def test_data_calls_tell_the_agency_and_the_sender(app, world, login_as, system_scope):
    from govqms.core.clock import today
    from govqms.datacalls.models import DataCallReply
    from govqms.extensions import db

    deadline = (today() + dt.timedelta(days=20)).strftime("%d/%m/%Y")
    overseer = login_as("p1_overseer")
    response = overseer.post(f"/o/{world.p1}/data-calls/new", data={
        "title": "Báo cáo sơ kết 6 tháng", "request": "Gửi số liệu", "deadline": deadline,
        "tenant_ids": [str(world.tenant_ids["a1"])]})
    assert response.status_code == 302
    (sent,) = _notes(_user(world, "a1_secretary"), "data_call_sent")
    assert sent.params["title"] == "Báo cáo sơ kết 6 tháng" and sent.link_args["tenant_slug"] == world.a1
    assert not _notes(_user(world, "b1_secretary"))
    slot = db.session.scalar(select(DataCallReply).where(DataCallReply.tenant_id == world.tenant_ids["a1"]))
    secretary = login_as("a1_secretary")
    assert "Báo cáo sơ kết 6 tháng" in secretary.get("/inbox/").text
    response = secretary.post(f"/t/{world.a1}/data-calls/{slot.id}/", data={"note": "Số liệu đính kèm"})
    assert response.status_code == 302
    (replied,) = _notes(_user(world, "p1_overseer"), "data_call_replied")
    assert replied.params["agency"] == "Sở Khoa học và Công nghệ Một"
    assert not _notes(_user(world, "p2_overseer"))


def test_the_schedule_names_registered_platform_jobs(app):
    from govqms.jobs.cron import SCHEDULE
    from govqms.jobs.services import registered_tasks

    tasks = registered_tasks()
    names = [name for name, _ in SCHEDULE]
    assert {"notifications.reminders", "notifications.digest", "notifications.deliver", "maintenance.cleanup",
            "compliance.snapshot"} <= set(names)
    assert all(tasks[name].system for name in names)


def test_cleanup_removes_expired_links_and_takes_back_interrupted_emails(app, world, system_scope):
    from govqms.accounts.models import Invitation
    from govqms.core.db import utcnow
    from govqms.extensions import db
    from govqms.jobs.models import Job
    from govqms.jobs.services import enqueue
    from govqms.notifications.models import EmailState, Notification

    user = _user(world, "a1_staff")
    old = utcnow() - dt.timedelta(days=60)
    expired = Invitation(user_id=user.id, token_hash="e" * 64, expires_at=utcnow() - dt.timedelta(days=1))
    live = Invitation(user_id=user.id, token_hash="f" * 64, expires_at=utcnow() + dt.timedelta(days=1))
    export = Job(task="activity.export_csv", user_id=user.id, status="finished", finished_at=old, result=b"x",
                 result_name="old.csv")
    stuck = Notification(user_id=user.id, kind="action", event_key="action:1:2026-01-01", step="due",
                         email_state=EmailState.SENDING, emailed_at=old, email_attempts=1)
    spent = Notification(user_id=user.id, kind="action", event_key="action:2:2026-01-01", step="due",
                         email_state=EmailState.SENDING, emailed_at=old, email_attempts=3)
    db.session.add_all([expired, live, export, stuck, spent])
    db.session.commit()
    expired_id = expired.id
    job = enqueue("maintenance.cleanup", tenant_id=None, user_id=None)
    assert job.status == "finished", job.error
    assert db.session.get(Invitation, live.id) is not None and db.session.get(Invitation, expired_id) is None
    assert db.session.get(Job, export.id).result is None
    assert db.session.get(Notification, stuck.id).email_state == EmailState.PENDING  # sent again
    assert db.session.get(Notification, spent.id).email_state == EmailState.FAILED  # its last attempt


def test_cli_runs_a_platform_job_and_lists_the_schedule(app, world, action_due, system_scope):
    action_due(0)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jobs", "run", "notifications.reminders"])
    assert result.exit_code == 0, result.output
    assert "finished" in result.output
    assert _notes(_user(world, "a1_staff"), "action")
    assert runner.invoke(args=["jobs", "run", "activity.export_csv"]).exit_code != 0  # not platform-wide
    listing = runner.invoke(args=["jobs", "schedule"]).output
    assert "notifications.reminders" in listing and "0 0 * * *" in listing


def test_a_sent_data_call_is_emailed_at_once(app, world, login_as, system_scope, smtp_sink):
    """The overseer's request commits, then a delivery job emails those who want it at once."""
    from govqms.core.clock import today
    from govqms.notifications.models import EmailState

    deadline = (today() + dt.timedelta(days=20)).strftime("%d/%m/%Y")
    response = login_as("p1_overseer").post(f"/o/{world.p1}/data-calls/new", data={
        "title": "Số liệu quý IV", "request": "Gửi số liệu", "deadline": deadline,
        "tenant_ids": [str(world.tenant_ids["a1"])]})
    assert response.status_code == 302
    secretary = _user(world, "a1_secretary")
    (message,) = [m for m in smtp_sink.wait(1) if m["To"] == secretary.email]
    assert "Số liệu quý IV" in _subject(message)
    (note,) = _notes(secretary, "data_call_sent")
    assert note.email_state == EmailState.SENT
