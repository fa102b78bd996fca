"""The demo: the manifests in ``tenants/jurisdictions/`` plus a known password and an operator.

``govqms demo`` syncs the files like ``govqms tenants sync`` (so running it twice changes
nothing), then gives every account of the files that has no password yet the demo password
instead of an invitation, and prints the logins.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from govqms.accounts.models import User
from govqms.extensions import db
from govqms.tenancy import provisioning, sync

DOMAIN = "demo.govqms.vn"
OPERATOR = (f"vanhanh@{DOMAIN}", "Quản trị nền tảng")


@dataclass
class DemoReport:
    password: str
    changes: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"Demo ready ({self.changes} changes applied)." if self.changes
                 else "Demo already up to date: nothing to create."]
        lines.append(f"Demo logins (password for all: {self.password}):")
        width = max(len(email) for email, _ in self.logins)
        lines += [f"  {email.ljust(width)}  {what}" for email, what in self.logins]
        return "\n".join(lines)


def load_demo(password: str) -> DemoReport:
    plan = provisioning.plan_files(provisioning.jurisdiction_files())
    report = DemoReport(password, changes=len(plan.pending))
    if plan.pending:
        sync.apply(plan, invite=False)
    method = current_app.config["PASSWORD_HASH_METHOD"]
    emails = _logins(plan, report)
    operator = db.session.scalar(select(User).where(User.email == OPERATOR[0]))
    if operator is None:
        operator = User(email=OPERATOR[0], name=OPERATOR[1], is_operator=True)
        db.session.add(operator)
        report.changes += 1
    report.logins.append((OPERATOR[0], "operator @ /admin/"))
    for user in db.session.scalars(select(User).where(User.email.in_([*emails, OPERATOR[0]]))):
        if user.password_hash is None:
            user.set_password(password, method=method)
    db.session.commit()
    enrich_registers(report)
    from govqms.compliance.services import snapshot
    from govqms.core.clock import today
    from govqms.tenancy.services import active_tenant_ids

    report.changes += _states(today())
    report.changes += _oversight(today())
    snapshot(active_tenant_ids())  # today's status, so the history starts with the demo
    from govqms.notifications.reminders import remind

    remind(active_tenant_ids(), today())  # today's reminders, so the inboxes show what comes due
    db.session.commit()
    return report


def _logins(plan: sync.SyncPlan, report: DemoReport) -> list[str]:
    successor_of = {t["slug"]: t["merged_into"] for _, _, t in plan.manifests.tenants() if t.get("merged_into")}
    emails = []
    for manifest in plan.manifests.manifests:
        for entry in manifest.oversight:
            emails.append(entry["email"])
            report.logins.append((entry["email"], f"{entry['role']} @ /o/{manifest.jurisdiction['code']}/"))
    for _, _, tenant in plan.manifests.tenants():
        target = sync.final_successor(tenant["slug"], successor_of)
        for account in tenant["accounts"]:
            emails.append(account["email"])
            report.logins.append((account["email"], ", ".join(account["roles"]) + f" @ /t/{target}/"))
    return emails


# --- a register with a history ----------------------------------------------------------------

#: Agencies whose registers get years of history: (slug, drafter, reviewer, approver) local parts.
HISTORIES = [
    ("kh-so-khcn", "thuky.khcn", "ddld.khcn", "giamdoc.khcn"),
    ("kh-so-yte", "thuky.yte", "ddld.yte", "giamdoc.yte"),
]
LEGAL_CHANGES = [
    # number, title, effective, QMS updated (None: not yet)
    ("137/2024/NĐ-CP", "Nghị định quy định về giao dịch điện tử của cơ quan nhà nước", dt.date(2024, 12, 10),
     dt.date(2025, 2, 20)),
    ("118/2025/NĐ-CP", "Nghị định về thực hiện thủ tục hành chính theo cơ chế một cửa, một cửa liên thông",
     dt.date(2025, 7, 1), dt.date(2025, 11, 5)),
    ("19/2025/TT-BKHCN", "Thông tư hướng dẫn áp dụng hệ thống quản lý chất lượng theo TCVN ISO 9001:2015",
     dt.date(2025, 9, 1), None),
]


def _pdf(text: str) -> bytes:
    """A one-page PDF showing *text* (demo files only)."""
    from govqms.core.text import fold

    line = fold(text).replace("\\\\", "").replace("(", "").replace(")", "")[:90]
    stream = f"BT /F1 12 Tf 56 780 Td ({line}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _actor(user: User):
    from govqms.core.activity import Actor, acting_as

    return acting_as(Actor(user.id, user.email))


def _history(tenant, drafter: User, reviewer: User, approver: User) -> int:
    """Walk the starter drafts through the real workflow, with dates spread over the years."""
    from govqms.core.uploads import CheckedFile
    from govqms.documents import services as documents
    from govqms.documents.models import Document, DocumentStatus, RevisionStatus

    every = db.session.scalars(select(Document).where(Document.tenant_id == tenant.id)
                               .order_by(Document.code)).all()
    changed = 0
    for index, document in enumerate(every):  # the index is stable from one run to the next
        revision = document.revisions[0]
        if (document.status != DocumentStatus.DRAFT or revision.files or revision.status != RevisionStatus.DRAFT
                or index % 9 == 8):
            continue  # done already, or every ninth document stays a draft: work in progress
        first_issue = dt.date(2019, 3, 1) + dt.timedelta(days=37 * index)
        data = _pdf(f"{document.code} {document.title}")
        with _actor(drafter):
            documents.add_file(revision, CheckedFile(data, f"{document.code}.pdf", "pdf", "application/pdf",
                                                     hashlib.sha256(data).hexdigest()))
            documents.submit(revision, drafter.id)
        with _actor(reviewer):
            documents.record_review(revision, reviewer.id, "Đạt yêu cầu")
        with _actor(approver):
            documents.approve(revision, approver.id, first_issue)
        if index % 3 == 0:  # a second issue a few years later
            with _actor(drafter):
                second = documents.new_draft(document, drafter.id)
                data = _pdf(f"{document.code} {document.title} (lan ban hanh 2)")
                documents.add_file(second, CheckedFile(data, f"{document.code}-2.pdf", "pdf", "application/pdf",
                                                       hashlib.sha256(data).hexdigest()))
                documents.update_draft(second, change_summary="Cập nhật theo quy định mới và thực tế áp dụng",
                                       effective_on=None)
                documents.submit(second, drafter.id)
            with _actor(reviewer):
                documents.record_review(second, reviewer.id, "")
            with _actor(approver):
                documents.approve(second, approver.id, dt.date(2023, 1, 1) + dt.timedelta(days=29 * index))
        elif index % 3 == 1:  # reviewed recently: still suitable
            with _actor(drafter):
                documents.conclude_review(document, drafter.id, outcome="no_change",
                                          on=dt.date(2026, 1, 5) + dt.timedelta(days=11 * index),
                                          note="Còn phù hợp")
        # the rest were never reviewed since their issue: due, or overdue, for periodic review
        changed += 1
    return changed


def _procedures_and_legal(tenant) -> int:
    from govqms.documents.models import Document, DocumentKind
    from govqms.legal.models import LegalChange
    from govqms.legal.services import save as save_legal
    from govqms.procedures.models import AdminProcedure
    from govqms.procedures.services import save as save_procedure

    if db.session.scalar(select(AdminProcedure.id).where(AdminProcedure.tenant_id == tenant.id).limit(1)):
        return 0
    work = db.session.scalars(select(Document).where(Document.tenant_id == tenant.id,
                                                     Document.kind == DocumentKind.WORK_PROCEDURE)
                              .order_by(Document.code)).all()
    for index, document in enumerate(work):
        name = document.title.removeprefix("Quy trình ").strip()
        save_procedure(AdminProcedure(tenant_id=tenant.id), code=f"1.{tenant.id:03}{index:03}",
                       name=name[:1].upper() + name[1:], field="", work_procedure_id=document.id)
    # one procedure the QMS does not cover yet: the catalogue shows the gap
    save_procedure(AdminProcedure(tenant_id=tenant.id), code=f"1.{tenant.id:03}999",
                   name="Thủ tục mới ban hành, chưa có quy trình", field="", work_procedure_id=None)
    affected = [d.id for d in work[:2]]
    for number, title, effective, updated in LEGAL_CHANGES:
        save_legal(LegalChange(tenant_id=tenant.id), affected, number=number, title=title, effective_on=effective,
                   qms_updated_on=updated)
    return len(work) + 1 + len(LEGAL_CHANGES)


def enrich_registers(report: DemoReport) -> None:
    """Years of documents, procedures, legal changes, service results and objectives for HISTORIES."""
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.tenancy.models import Tenant

    for slug, *people in HISTORIES:
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        users = [db.session.scalar(select(User).where(User.email == f"{p}@{DOMAIN}")) for p in people]
        if tenant is None or None in users:
            continue
        from govqms.core.clock import today

        with scoped(TenantScope.tenant(tenant.id), db.session):
            report.changes += _history(tenant, *users) + _procedures_and_legal(tenant)
            report.changes += _performance(tenant, today()) + _policy(tenant, users[2])
            report.changes += _objective_history(tenant, users[0], today())
            report.changes += _improvement(tenant, *users, today())
            db.session.commit()


# --- performance data and objectives over several years ------------------------------------

def _noise(*parts) -> int:
    """A stable pseudo-random number 0–99 from the parts (the demo is the same on every machine)."""
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:4], 16) % 100


def _performance(tenant, today_: dt.date) -> int:
    from govqms.performance.models import SatisfactionSurvey, ServiceResult
    from govqms.performance.periods import Period

    if db.session.scalar(select(ServiceResult.id).where(ServiceResult.tenant_id == tenant.id).limit(1)):
        return 0
    added = 0
    for year in range(2023, today_.year + 1):
        for month in range(1, 13):
            if (year, month) >= (today_.year, today_.month):
                break
            noise = _noise(tenant.slug, year, month)
            received = 60 + noise
            late = 2 if noise > 92 else (1 if noise > 85 else 0)  # a few months with late dossiers
            pending = noise % 7
            early = received // 3
            result = ServiceResult(tenant_id=tenant.id, received=received, resolved_early=early,
                                   resolved_on_time=received - early - late - pending, resolved_late=late,
                                   pending=pending)
            result.period = Period.month(year, month)
            db.session.add(result)
            responses = 20 + noise % 40
            dissatisfied = 1 if noise > 88 else 0
            db.session.add(SatisfactionSurvey(tenant_id=tenant.id, year=year, month=month, responses=responses,
                                              satisfied=responses - dissatisfied))
            added += 2
    return added


def _objective_history(tenant, owner: User, today_: dt.date) -> int:
    from govqms.objectives import rules
    from govqms.objectives.models import Measurement, Objective
    from govqms.objectives.services import evaluate

    current = db.session.scalars(select(Objective).where(Objective.tenant_id == tenant.id,
                                                         Objective.year == today_.year)).all()
    if not current or db.session.scalar(select(Objective.id).where(Objective.tenant_id == tenant.id,
                                                                   Objective.year < today_.year).limit(1)):
        return 0
    added = 0
    for year in (today_.year - 2, today_.year - 1, today_.year):
        for template in current:
            objective = template if year == today_.year else Objective(
                tenant_id=tenant.id, year=year, statement=template.statement, indicator=template.indicator,
                comparator=template.comparator, target=template.target, unit_of_measure=template.unit_of_measure,
                frequency=template.frequency, source=template.source, plan=template.plan)
            objective.owner_id = owner.id
            db.session.add(objective)
            db.session.flush()
            if objective.source != "typed":
                continue
            for period in rules.periods(year, objective.frequency):
                if period.last_day >= today_:
                    break
                noise = _noise(tenant.slug, objective.statement, year, period.index)
                value = objective.target
                if noise > 80:  # now and then the target is missed (counts by a whole one)
                    if objective.comparator == ">=":
                        value = objective.target * 0.9 if objective.target >= 10 else objective.target - 1
                    else:
                        value = objective.target + 1
                db.session.add(Measurement(tenant_id=tenant.id, objective_id=objective.id, period_index=period.index,
                                           value=round(value, 1), note="", recorded_by_id=owner.id))
                added += 1
            db.session.flush()
            if year < today_.year:
                with _actor(owner):
                    evaluate(objective, "half_year", "", owner.id)
                    evaluate(objective, "year_end", "", owner.id)
    return added


def _policy(tenant, head: User) -> int:
    from govqms.objectives.models import QualityPolicy

    if db.session.scalar(select(QualityPolicy.id).where(QualityPolicy.tenant_id == tenant.id).limit(1)):
        return 0
    db.session.add(QualityPolicy(
        tenant_id=tenant.id, issued_on=dt.date(2021, 6, 15), issued_by=head.name, decision_number="125/QĐ-2021",
        posted=True, text="Công khai, minh bạch, đúng hạn. Lấy sự hài lòng của người dân, tổ chức làm thước đo "
                          "chất lượng phục vụ. Không ngừng cải tiến hệ thống quản lý chất lượng."))
    return 1


# --- audits, corrective actions, risks, management reviews --------------------------------

def _improvement(tenant, drafter: User, reviewer: User, approver: User, today_: dt.date) -> int:
    """Two years of internal audits with findings, corrective actions (closed, open, overdue),
    a risk register and management reviews, through the services the pages use."""
    from govqms.audits import services as audits
    from govqms.audits.models import Audit
    from govqms.competence.models import Qualification
    from govqms.competence.services import save_profile
    from govqms.conformity.services import edition_applied
    from govqms.improvement import services as improvement
    from govqms.improvement.models import Nonconformity, Risk
    from govqms.reviews import services as reviews
    from govqms.tenancy.models import Unit

    if db.session.scalar(select(Audit.id).where(Audit.tenant_id == tenant.id).limit(1)):
        return 0
    units = db.session.scalars(select(Unit).where(Unit.tenant_id == tenant.id).order_by(Unit.code)).all()
    home, audited = units[0], [u for u in units[1:]]
    # the secretary and the management representative are trained internal auditors
    for person, unit in ((drafter, home), (reviewer, units[-1]), (approver, home)):
        save_profile(tenant.id, person.id, unit.id, "")
    for person in (drafter, reviewer):
        db.session.add(Qualification(tenant_id=tenant.id, user_id=person.id, kind="internal_auditor",
                                     course="Đánh giá viên nội bộ TCVN ISO 9001:2015",
                                     completed_on=dt.date(2022, 5, 20),
                                     certificate=f"ĐGVNB-{person.id:04d}"))
    db.session.flush()
    risk_rows = [("risk", "Mất hoặc hư hỏng hồ sơ giấy do lưu trữ không đúng quy định", "Lưu trữ hồ sơ", 2, 4),
                 ("risk", "Hồ sơ trễ hạn do thiếu nhân sự bộ phận một cửa vào cao điểm", "Giải quyết TTHC", 3, 4),
                 ("risk", "Quy trình chậm cập nhật khi văn bản pháp luật thay đổi", "Kiểm soát tài liệu", 3, 3),
                 ("opportunity", "Số hóa hồ sơ, kết quả giải quyết TTHC", "Giải quyết TTHC", 4, 3)]
    for kind, description, process, likelihood, impact in risk_rows:
        db.session.add(Risk(tenant_id=tenant.id, kind=kind, description=description, process=process,
                            likelihood=likelihood, impact=impact, treatment="Theo dõi định kỳ, phân công phụ trách"))
    db.session.flush()
    changes = 0
    for year in (today_.year - 2, today_.year - 1):
        held = dt.date(year, 10, 15)
        scope = [u.id for u in audited if u.id != units[-1].id] or [audited[0].id]  # not the auditors' units
        edition = edition_applied(tenant.id, held)
        with _actor(drafter):
            audit = audits.save_audit(
                Audit(tenant_id=tenant.id), edition=edition, lead_auditor_id=drafter.id, team_ids=[],
                unit_ids=scope, clauses_=["4.4", "7.5", "8.5", "9.1", "10.2"], process_ids=[],
                year=year, title=f"Đánh giá nội bộ HTQLCL năm {year}", planned_start=held, planned_end=held)
            audits.build_checklist(audit, edition)
            audits.add_finding(audit, type="strength", clause="9.1", unit_id=scope[0], evidence="",
                               description="Theo dõi đầy đủ kết quả giải quyết hồ sơ trên hệ thống một cửa điện tử")
            first = audits.add_finding(audit, type="minor_nc", clause="7.5", unit_id=scope[0],
                                       description="Một số hồ sơ công việc chưa được cập nhật vào danh mục hồ sơ",
                                       evidence="Danh mục hồ sơ năm chưa có 3 hồ sơ phát sinh trong quý III")
            second = audits.add_finding(audit, type="minor_nc", clause="8.5", unit_id=scope[-1],
                                        description="Phiếu theo dõi quá trình giải quyết hồ sơ thiếu chữ ký bàn giao",
                                        evidence="2/10 hồ sơ kiểm tra ngẫu nhiên")
            audits.add_finding(audit, type="opportunity", clause="10.2", unit_id=scope[-1], evidence="",
                               description="Có thể số hóa phiếu theo dõi để giảm sai sót")
            audits.report(audit, "Hệ thống quản lý chất lượng được duy trì và áp dụng phù hợp; 02 điểm không phù "
                                 "hợp nhẹ cần khắc phục.", held, held)
        for finding, closed in ((first, True), (second, year < today_.year - 1)):
            nc = db.session.get(Nonconformity, finding.nonconformity_id)
            with _actor(drafter):
                improvement.analyse(nc, "Bổ sung ngay các hồ sơ còn thiếu",
                                    "Tại sao 1: hồ sơ chưa được cập nhật\nTại sao 2: chưa phân công người cập nhật")
                action = improvement.add_action(tenant.id, nonconformity=nc, owner_id=drafter.id,
                                                description="Phân công và hướng dẫn cập nhật hồ sơ định kỳ hằng tháng",
                                                due_on=held + dt.timedelta(days=45))
                if closed:
                    improvement.complete_action(action, "Đã phân công và hướng dẫn", on=held + dt.timedelta(days=30))
            if closed:
                with _actor(reviewer):
                    improvement.verify(nc, effective=True, note="Kiểm tra lại: hồ sơ cập nhật đầy đủ",
                                       user_id=reviewer.id,
                                       on=held + dt.timedelta(days=60))
                    improvement.close(nc, on=held + dt.timedelta(days=61))
            changes += 1
        meeting = dt.date(year, 12, 10)
        with _actor(drafter):
            review = reviews.create_review(tenant.id, year=year, meeting_on=meeting, chair=approver.name,
                                           attendees=f"{approver.name}, {reviewer.name}, {drafter.name}, "
                                                     "trưởng các phòng")
            review.conclusion = "Hệ thống quản lý chất lượng phù hợp, được duy trì và cải tiến."
            improvement.add_action(tenant.id, review_id=review.id, category="resources", owner_id=drafter.id,
                                   description="Trang bị thêm máy quét cho bộ phận một cửa",
                                   due_on=dt.date(year + 1, 3, 31))
            improvement.add_action(tenant.id, review_id=review.id, category="improvement", owner_id=reviewer.id,
                                   description="Rà soát, cập nhật các quy trình theo quy định mới",
                                   due_on=dt.date(year + 1, 6, 30))
        with _actor(approver):
            reviews.confirm_effectiveness(review, approver.id, on=meeting)
        changes += 1
    return changes + len(risk_rows)


# --- agencies in every compliance state ------------------------------------------------------

#: slug → the state the demo gives it (README lists them; a test checks them)
STATES = {
    "kh-so-tuphap": "green",                  # audited, reviewed, declared, confirmed: all in order
    "kh-so-taichinh": "surveillance_due",     # certified; the yearly surveillance audit is close
    "kh-so-xaydung": "certificate_lapsed",    # certified until 2024, declares conformity since: history, not a gap
    "kh-so-congthuong": "declared_2008",      # declared on TCVN ISO 9001:2008, transition overdue
}


def _states(today_: dt.date) -> int:
    from govqms.audits.models import Audit
    from govqms.conformity.models import Certificate, Declaration
    from govqms.conformity.services import declare
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.reviews.models import ManagementReview
    from govqms.tenancy.models import Tenant

    changes = 0
    for slug, state in STATES.items():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None or db.session.scalar(select(Declaration.id).where(Declaration.tenant_id == tenant.id)
                                               .limit(1)):
            continue
        with scoped(TenantScope.tenant(tenant.id), db.session):
            if state == "declared_2008":
                declare(tenant.id, decision_number="45/QĐ-SCT", decided_on=dt.date(2017, 3, 20), edition="2008",
                        dost_notified_on=dt.date(2017, 3, 25), posted_on=dt.date(2017, 3, 22),
                        published_on=dt.date(2017, 3, 22))
            else:
                declare(tenant.id, decision_number=f"{20 + len(slug)}/QĐ-{slug[3:].upper()}",
                        decided_on=dt.date(2022, 4, 15), edition="2015", dost_notified_on=dt.date(2022, 4, 20),
                        posted_on=dt.date(2022, 4, 18), published_on=dt.date(2022, 4, 18))
            if state == "green":
                held = today_ - dt.timedelta(days=60)
                db.session.add_all([
                    Audit(tenant_id=tenant.id, year=held.year, title=f"Đánh giá nội bộ HTQLCL năm {held.year}",
                          planned_start=held, planned_end=held, actual_start=held, actual_end=held,
                          status="reported", clauses=["4.4", "9.2"], unit_ids=[], process_ids=[], team_ids=[],
                          conclusion="Hệ thống được duy trì phù hợp."),
                    ManagementReview(tenant_id=tenant.id, year=today_.year, meeting_on=today_ - dt.timedelta(days=30),
                                     held_on=today_ - dt.timedelta(days=30), chair="Giám đốc Sở", inputs={}, notes={},
                                     effectiveness_confirmed=True,
                                     confirmed_on=today_ - dt.timedelta(days=30),
                                     conclusion="Hệ thống quản lý chất lượng duy trì có hiệu lực."),
                ])
            elif state == "surveillance_due":
                issued = today_ - dt.timedelta(days=350)
                db.session.add(Certificate(tenant_id=tenant.id, body="Trung tâm Chứng nhận Phù hợp (QUACERT)",
                                           number="HT 3021.25", edition="2015", scope="Giải quyết TTHC",
                                           issued_on=issued, expires_on=issued.replace(year=issued.year + 3)))
            elif state == "certificate_lapsed":
                db.session.add(Certificate(tenant_id=tenant.id, body="Trung tâm Chứng nhận Phù hợp (QUACERT)",
                                           number="HT 1187.21", edition="2015", scope="Giải quyết TTHC",
                                           issued_on=dt.date(2021, 5, 4), expires_on=dt.date(2024, 5, 3)))
            db.session.commit()
        changes += 1
    return changes


# --- the overseer's year: an inspection plan and a data call --------------------------------------

ON_SITE = ("kh-so-yte", "kh-so-xaydung", "kh-so-congthuong", "kh-so-gddt", "kh-phuong-nha-trang", "kh-so-tuphap")


def _oversight(today_: dt.date) -> int:
    """Khánh Hòa's plan for the year (some on site, Health inspected with findings) and the data call
    of seed 000 (review every procedure, report by 25/07), answered by some departments."""
    from govqms.core.tenancy import writing_for
    from govqms.datacalls import services as calls
    from govqms.datacalls.models import DataCallReply
    from govqms.inspections import services as inspections
    from govqms.inspections.models import Inspection
    from govqms.tenancy.models import Jurisdiction, Tenant

    province = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "khanh-hoa"))
    overseer = db.session.scalar(select(User).where(User.email == f"tdc.khanhhoa@{DOMAIN}"))
    if province is None or overseer is None or inspections.plan_for(province, today_.year) is not None:
        return 0
    with _actor(overseer):
        plan = inspections.create_plan(province, today_.year)
        plan.decision_number, plan.approved_on = "125/QĐ-SKHCN", dt.date(today_.year, 2, 20)
        rows = db.session.execute(select(Inspection, Tenant).join(Tenant, Tenant.id == Inspection.tenant_id)
                                  .where(Inspection.plan_id == plan.id)).all()
        for number, (inspection, tenant) in enumerate(rows):
            start = dt.date(today_.year, 3 + number % 8, 10 + number % 15)
            if tenant.slug == "kh-so-yte":  # inspected a month ago, whatever the day the demo is loaded
                start = max(dt.date(today_.year, 1, 2), today_ - dt.timedelta(days=30))
            on_site = tenant.slug in ON_SITE
            inspections.update(inspection, form="on_site" if on_site else "paper",
                               inspecting_unit="Chi cục Tiêu chuẩn Đo lường Chất lượng Khánh Hòa",
                               planned_start=start, planned_end=start + dt.timedelta(days=1 if on_site else 0),
                               cost=3_500_000 if on_site else 500_000)
            if tenant.slug == "kh-so-yte":
                minutes = min(start + dt.timedelta(days=1), today_)
                inspections.update(inspection, decision_number="38/QĐ-SKHCN", decision_on=start - dt.timedelta(days=14),
                                   checklist={"scope": {"result": "met", "note": ""},
                                              "training": {"result": "not_met",
                                                           "note": "Chưa tập huấn tài liệu sửa đổi cho công chức mới"}},
                                   conclusion="Cơ bản duy trì hệ thống; cần khắc phục các tồn tại nêu trên.")
                inspections.sign_minutes(inspection, minutes_on=minutes, findings=[
                    {"clause": "7.2", "description": "Chưa đào tạo công chức mới về các quy trình sửa đổi"},
                    {"clause": "", "description": "Chưa công bố lại sau khi bổ sung 3 thủ tục hành chính"}])
        deadline = dt.date(today_.year, 7, 25)
        recipients = list(db.session.scalars(select(Tenant).where(Tenant.id.in_([t.id for _i, t in rows]))))
        call = calls.send(province, title="Rà soát, cập nhật quy trình giải quyết thủ tục hành chính",
                          request="Đề nghị các cơ quan rà soát toàn bộ quy trình giải quyết TTHC theo danh mục "
                                  "mới được công bố và báo cáo kết quả trước ngày 25/07.",
                          deadline=deadline, tenants=recipients, user_id=overseer.id)
        call.sent_on = min(dt.date(today_.year, 7, 1), today_)
        answers = {"kh-so-tuphap": deadline - dt.timedelta(days=3), "kh-so-khcn": deadline + dt.timedelta(days=4),
                   "kh-so-yte": deadline - dt.timedelta(days=1)}
        for slot, tenant in db.session.execute(select(DataCallReply, Tenant).join(
                Tenant, Tenant.id == DataCallReply.tenant_id).where(DataCallReply.call_id == call.id)).all():
            if tenant.slug in answers and answers[tenant.slug] <= today_:
                with writing_for(tenant.id, db.session):
                    slot.note = "Đã rà soát toàn bộ quy trình; đề xuất sửa đổi 4 quy trình."
                    slot.submitted_on = answers[tenant.slug]
                    db.session.flush()
        db.session.commit()
    return 1
