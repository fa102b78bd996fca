"""The demo province and ministry, created idempotently by ``govqms demo``.

Data, not logic: the records below are looked up by their natural keys (code, slug,
email) and created only when missing, so running the command twice changes nothing.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from govqms.accounts.models import User
from govqms.core.permissions import OversightRoleKind, TenantRole
from govqms.extensions import db
from govqms.tenancy.models import (
    IsoEdition, Jurisdiction, JurisdictionLevel, Membership, OversightRole, Tenant, TenantKind, TenantStatus, Unit,
)

JURISDICTIONS = [
    # code, name, level, parent code
    ("vn", "Bộ Khoa học và Công nghệ (toàn quốc)", JurisdictionLevel.NATIONAL, None),
    ("khanh-hoa", "Tỉnh Khánh Hòa", JurisdictionLevel.PROVINCE, "vn"),
    ("bo-tu-phap", "Bộ Tư pháp", JurisdictionLevel.MINISTRY, "vn"),
]

TENANTS = [
    # slug, name, kind, jurisdiction, edition, units
    ("kh-so-khcn", "Sở Khoa học và Công nghệ tỉnh Khánh Hòa", TenantKind.SCIENCE_TECHNOLOGY, "khanh-hoa",
     IsoEdition.ISO_2015, [("VP", "Văn phòng Sở"), ("KHTC", "Phòng Kế hoạch - Tài chính"),
                           ("QLKH", "Phòng Quản lý Khoa học"), ("TDC", "Chi cục Tiêu chuẩn Đo lường Chất lượng"),
                           ("BCVT", "Phòng Bưu chính, Viễn thông và Chuyển đổi số")]),
    ("kh-so-tttt", "Sở Thông tin và Truyền thông tỉnh Khánh Hòa", TenantKind.INFORMATION_COMMUNICATIONS,
     "khanh-hoa", IsoEdition.ISO_2015, [("VP", "Văn phòng Sở"), ("BCVT", "Phòng Bưu chính, Viễn thông"),
                                        ("TTBC", "Phòng Thông tin - Báo chí - Xuất bản")]),
    ("kh-so-yte", "Sở Y tế tỉnh Khánh Hòa", TenantKind.HEALTH, "khanh-hoa", IsoEdition.ISO_2015,
     [("VP", "Văn phòng Sở"), ("NVY", "Phòng Nghiệp vụ Y"), ("NVD", "Phòng Nghiệp vụ Dược")]),
    ("btp-cuc-con-nuoi", "Cục Con nuôi", TenantKind.MINISTRY_UNIT, "bo-tu-phap", IsoEdition.ISO_2015,
     [("VP", "Văn phòng Cục"), ("NCN", "Phòng Nuôi con nuôi trong nước")]),
    ("btp-vu-tccb", "Vụ Tổ chức cán bộ", TenantKind.MINISTRY_UNIT, "bo-tu-phap", IsoEdition.ISO_2008,
     [("TC", "Phòng Tổ chức"), ("CB", "Phòng Cán bộ")]),
]

#: (source, successor, date): the Department of Information and Communications became part of DOST.
MERGERS = [("kh-so-tttt", "kh-so-khcn", dt.date(2025, 3, 1))]

DOMAIN = "demo.govqms.vn"
ACCOUNTS = [
    # email local part, name, tenant memberships, oversight roles, operator
    ("giamdoc.khcn", "Nguyễn Văn An", [("kh-so-khcn", TenantRole.HEAD)], [], False),
    ("ddld.khcn", "Trần Thị Bình", [("kh-so-khcn", TenantRole.QMR)], [], False),
    ("thuky.khcn", "Lê Thị Cúc", [("kh-so-khcn", TenantRole.ISO_SECRETARY)], [], False),
    ("dgv.khcn", "Phạm Minh Dũng", [("kh-so-khcn", TenantRole.AUDITOR)], [], False),
    ("chuyenvien.khcn", "Hoàng Thị Em", [("kh-so-khcn", TenantRole.STAFF)], [], False),
    ("xem.khcn", "Võ Văn Phúc", [("kh-so-khcn", TenantRole.VIEWER)], [], False),
    ("thuky.yte", "Đặng Thị Giang", [("kh-so-yte", TenantRole.ISO_SECRETARY)], [], False),
    ("thuky.connuoi", "Bùi Văn Hải", [("btp-cuc-con-nuoi", TenantRole.ISO_SECRETARY)], [], False),
    ("tdc.khanhhoa", "Ngô Thị Lan", [], [("khanh-hoa", OversightRoleKind.OVERSEER)], False),
    ("bcd.botuphap", "Đỗ Văn Minh", [], [("bo-tu-phap", OversightRoleKind.STEERING_COMMITTEE)], False),
    ("vanhanh", "Quản trị nền tảng", [], [], True),
]


@dataclass
class DemoReport:
    password: str
    created: list[str] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"Demo ready ({len(self.created)} records created)." if self.created
                 else "Demo already up to date: nothing to create."]
        lines.append(f"Demo logins (password for all: {self.password}):")
        width = max(len(email) for email, _ in self.logins)
        lines += [f"  {email.ljust(width)}  {what}" for email, what in self.logins]
        return "\n".join(lines)


def _get_or_create(report: DemoReport, model, lookup: dict, **values):
    obj = db.session.scalar(select(model).filter_by(**lookup))
    if obj is None:
        obj = model(**lookup, **values)
        db.session.add(obj)
        db.session.flush()
        report.created.append(f"{model.__tablename__}:{lookup}")
    return obj


def load_demo(password: str) -> DemoReport:
    report = DemoReport(password)
    jurisdictions: dict[str, Jurisdiction] = {}
    for code, name, level, parent in JURISDICTIONS:
        jurisdictions[code] = _get_or_create(report, Jurisdiction, {"code": code}, name=name, level=level,
                                             parent=jurisdictions.get(parent))
    tenants: dict[str, Tenant] = {}
    for slug, name, kind, jurisdiction, edition, units in TENANTS:
        tenant = _get_or_create(report, Tenant, {"slug": slug}, name=name, kind=kind,
                                jurisdiction=jurisdictions[jurisdiction], iso_edition=edition)
        tenants[slug] = tenant
        for code, unit_name in units:
            _get_or_create(report, Unit, {"tenant_id": tenant.id, "code": code}, name=unit_name)
    for source, successor, on in MERGERS:
        tenant = tenants[source]
        if tenant.status != TenantStatus.MERGED:
            tenant.status, tenant.merged_into, tenant.merged_on = TenantStatus.MERGED, tenants[successor], on
            report.created.append(f"merge:{source}->{successor}")
    method = current_app.config["PASSWORD_HASH_METHOD"]
    for local, name, memberships, oversight, operator in ACCOUNTS:
        email = f"{local}@{DOMAIN}"
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=name, is_operator=operator)
            user.set_password(password, method=method)
            db.session.add(user)
            db.session.flush()
            report.created.append(f"user:{email}")
        for slug, role in memberships:
            _get_or_create(report, Membership, {"user_id": user.id, "tenant_id": tenants[slug].id, "role": role})
        for code, role in oversight:
            _get_or_create(report, OversightRole,
                           {"user_id": user.id, "jurisdiction_id": jurisdictions[code].id, "role": role})
        what = ", ".join([f"{role} @ /t/{slug}/" for slug, role in memberships]
                         + [f"{role} @ /o/{code}/" for code, role in oversight]
                         + (["operator @ /admin/"] if operator else []))
        report.logins.append((email, what))
    db.session.commit()
    return report
