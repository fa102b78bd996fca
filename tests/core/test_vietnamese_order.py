"""Names sort the Vietnamese way everywhere (issue 19): ``sort_key`` in Python, the collation ``vi`` in SQL
(ICU's on PostgreSQL, ``sort_key`` registered on SQLite), and the pages, selects, plans, reports and exports
that list agencies, people and fields."""
from __future__ import annotations

import datetime as dt
import io
import random
import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from govqms.core.clock import today
from govqms.core.text import sort_key
from tests.conftest import FAST_HASH, PASSWORD

NAMES = ["Văn phòng UBND tỉnh", "Ủy ban nhân dân xã Hòa Bình", "Sở Nông nghiệp và Môi trường", "Sở Nội vụ",
         "Sở Y tế", "Sở Tài chính", "Ban Quản lý", "Đài Phát thanh", "Ăn uống", "Âm nhạc", "An toàn"]
EXPECTED = ["An toàn", "Ăn uống", "Âm nhạc", "Ban Quản lý", "Đài Phát thanh", "Sở Nội vụ",  # i < n: Nội < Nông
            "Sở Nông nghiệp và Môi trường", "Sở Tài chính", "Sở Y tế", "Ủy ban nhân dân xã Hòa Bình",
            "Văn phòng UBND tỉnh"]
#: Tones, case, spaces, punctuation and digits, where ICU and sort_key must agree as well.
HARDER = ["Ban A", "Bana", "Ban 2", "Ban-B", "ban a", "BAN A", "Bà", "Ba", "Bả", "Bã", "Bá", "Bạ", "Hòa", "Hoà",
          "Hoá", "Hóa", "Hoạch", "Hòang", "Ba1", "Ba10", "Ba2", "Sở Tài chính (cũ)", "Sở Tài chính - Kế hoạch",
          "Sở Tài chính – Kế hoạch", "Sở Tài chính, Kế hoạch", "Sở Tài chính. Kế hoạch", "Phòng “Một cửa”",
          "Phòng 'Một cửa'", "Đội 1", "Dung", "Đỗ", "Ơn", "Ô tô", "Oanh", "Ưng", "Uyên", "Uỷ ban", "Ủy ban", "Tư",
          "Tr", "Th", "Chi", "Cha", "Nga", "Nhà", "Ngh", "Giang", "Gì", "Quỳnh", "Quyết", "Yên", "Ý"]
PEOPLE = ["Trần Văn Ân", "Đỗ Thị Bình", "Dương Minh Châu", "Ưng Hoàng Phúc", "Uông Thị Lan", "Âu Dương Phong",
          "An Nhiên"]
PEOPLE_EXPECTED = ["An Nhiên", "Âu Dương Phong", "Dương Minh Châu", "Đỗ Thị Bình", "Trần Văn Ân", "Uông Thị Lan",
                   "Ưng Hoàng Phúc"]
YEAR = today().year


def test_sort_key_orders_names_the_vietnamese_way():
    assert sorted(NAMES) != EXPECTED  # code-point order is the bug
    for seed in range(5):
        shuffled = NAMES[:]
        random.Random(seed).shuffle(shuffled)
        assert sorted(shuffled, key=sort_key) == EXPECTED
    assert sorted(PEOPLE, key=sort_key) == PEOPLE_EXPECTED
    # before the letters: spaces, punctuation, digits; tones then case break ties
    assert sorted(["Bana", "Ban-B", "Ban Quản lý", "Ban 2", "Ba2"], key=sort_key) == [
        "Ba2", "Ban 2", "Ban Quản lý", "Ban-B", "Bana"]
    assert sorted(["Bá", "BA", "Bà", "ba", "Ba"], key=sort_key) == ["ba", "Ba", "BA", "Bà", "Bá"]


def _in_sql(names: list[str]) -> list[str]:
    """*names* as ``ORDER BY name COLLATE vi`` returns them, from the application's connection."""
    from govqms.extensions import db

    params = {f"n{i}": name for i, name in enumerate(names)}
    rows = " union all ".join(f"select cast(:n{i} as varchar(255)) as name" for i in range(len(names)))
    return list(db.session.scalars(sa.text(f"select name from ({rows}) as names order by name collate vi"), params))


def test_the_collation_orders_like_sort_key(app, system_scope):
    from govqms.core.db import vi_order

    assert _in_sql(NAMES) == EXPECTED
    assert _in_sql(HARDER) == sorted(HARDER, key=sort_key)
    names = sa.table("names", sa.column("name"))
    union = sa.union_all(*[sa.select(sa.literal(n, sa.String(255)).label("name")) for n in NAMES]).subquery("names")
    from govqms.extensions import db

    assert list(db.session.scalars(sa.select(union.c.name).order_by(vi_order(union.c.name)))) == EXPECTED
    assert str(sa.select(names.c.name).order_by(vi_order(names.c.name))).endswith("ORDER BY names.name COLLATE vi")


@pytest.mark.postgresql_only
def test_the_postgresql_collation_is_icus_vietnamese(app, system_scope):
    from govqms.extensions import db

    provider = db.session.scalar(sa.text("select collprovider from pg_collation where collname = 'vi'"))
    assert provider == "i"  # ICU


@pytest.fixture
def province(world, system_scope):
    """A province (under the nation) whose agencies bear the names of the issue, created in random order,
    and its overseer."""
    from govqms.accounts.models import User
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction, OversightRole, Tenant

    nation = db.session.scalar(sa.select(Jurisdiction).where(Jurisdiction.code == "vn"))
    jurisdiction = Jurisdiction(code="thu-tu", name="Tỉnh Thứ Tự", level="province", parent=nation)
    db.session.add(jurisdiction)
    shuffled = NAMES[:]
    random.Random(19).shuffle(shuffled)
    tenants = [Tenant(slug=f"tt-{i}", name=name, kind="other_department", jurisdiction=jurisdiction)
               for i, name in enumerate(shuffled)]
    overseer = User(email="giam.sat.thu.tu@test.govqms.vn", name="Giám sát Thứ Tự")
    overseer.set_password(PASSWORD, method=FAST_HASH)
    db.session.add_all([*tenants, overseer])
    db.session.flush()
    db.session.add(OversightRole(user_id=overseer.id, jurisdiction_id=jurisdiction.id, role="overseer"))
    db.session.commit()
    slugs = {t.name: t.slug for t in tenants}
    return SimpleNamespace(code=jurisdiction.code, id=jurisdiction.id, email=overseer.email,
                           expected=[slugs[name] for name in EXPECTED], ids={t.id: t.slug for t in tenants})


def _overseer(app, province):
    from tests.conftest import login

    return login(app.test_client(), province.email)


def _agency_rows(page) -> list[str]:
    return re.findall(r'<tr data-agency="([^"]+)"', page.text)


def _year_figures(province):
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.oversight.report import figures
    from govqms.tenancy.models import Jurisdiction

    with scoped(TenantScope.system(), db.session):
        return figures(db.session.get(Jurisdiction, province.id), YEAR)


def _job_download(client, response):
    assert response.status_code == 302, response.text
    status = client.get(response.location + "/status").get_json()
    assert status["status"] == "finished", status
    return client.get(response.location + "/download").data


def test_sql_lists_agencies_in_vietnamese_order(app, province):
    from govqms.core.db import vi_order
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction, Tenant
    from govqms.tenancy.services import active_below

    query = sa.select(Tenant.slug).join(Jurisdiction).where(Jurisdiction.code == province.code)
    assert list(db.session.scalars(query.order_by(vi_order(Tenant.name)))) == province.expected
    assert list(db.session.scalars(sa.text(
        "select slug from tenant where jurisdiction_id = :j order by name collate vi"), {"j": province.id})
    ) == province.expected
    jurisdiction = db.session.get(Jurisdiction, province.id)
    assert [t.slug for t in active_below(jurisdiction)] == province.expected


def test_inspection_plan_and_its_report_list_agencies_in_vietnamese_order(app, province):
    client = _overseer(app, province)
    assert client.post(f"/o/{province.code}/inspections/plan",
                       data={"year": YEAR, "step": "create"}).status_code == 302
    page = client.get(f"/o/{province.code}/inspections/?year={YEAR}")
    assert page.status_code == 200 and _agency_rows(page) == province.expected
    # the year's figures the reports are made of: the agencies, and the inspections, by name
    figures = _year_figures(province)
    assert [t.name for _i, t in figures.inspections] == EXPECTED
    assert [r.tenant.name for r in figures.rows] == EXPECTED


def test_data_call_page_and_replies_and_schedule_in_vietnamese_order(app, province):
    client = _overseer(app, province)
    page = client.get(f"/o/{province.code}/data-calls/new")
    assert page.status_code == 200
    assert [province.ids[int(i)] for i in re.findall(r'name="tenant_ids" value="(\d+)"', page.text)] == \
        province.expected
    deadline = today() + dt.timedelta(days=10)
    response = client.post(f"/o/{province.code}/data-calls/new", data={
        "title": "Báo cáo tình hình áp dụng", "request": "Gửi báo cáo.", "deadline": deadline.strftime("%d/%m/%Y"),
        "tenant_ids": [str(i) for i in province.ids]})
    assert response.status_code == 302, response.text
    detail = client.get(response.location)
    assert re.findall(r'data-agency="([^"]+)" data-state=', detail.text) == province.expected
    # the same day's deadline of every agency, on the jurisdiction's timeline: by agency name
    schedule = client.get(f"/o/{province.code}/schedule/?year={deadline.year}&kind=data_call")
    assert re.findall(r'<span class="text-muted">— ([^<]+)</span>', schedule.text) == EXPECTED


def test_comparison_page_and_export_in_vietnamese_order(app, province):
    client = _overseer(app, province)
    for sort in ("name", "level"):  # no agency has records: the same level, then by name
        page = client.get(f"/o/{province.code}/?sort={sort}")
        table = page.text.split('data-testid="comparison"', 1)[1].split("</table>", 1)[0]
        assert re.findall(r'<tr data-agency="([^"]+)"', table) == province.expected
    for data in ({"sort": "name"}, {}):
        book = load_workbook(io.BytesIO(_job_download(client, client.post(f"/o/{province.code}/export", data=data))))
        assert [row[0] for row in book.active.iter_rows(min_row=3, values_only=True)] == EXPECTED


def test_back_office_agency_select_in_vietnamese_order(province, login_as):
    page = login_as("operator").get("/admin/merge/")
    assert page.status_code == 200
    select = page.text.split('id="source"', 1)[1].split("</select>", 1)[0]
    shown = re.findall(r"\((tt-\d+)\)</option>", select)
    assert shown == province.expected


def test_other_jurisdictions_pages_stay_closed(province, login_as):
    assert login_as("p1_overseer").get(f"/o/{province.code}/inspections/?year={YEAR}").status_code == 404
    assert login_as("p2_overseer").get(f"/o/{province.code}/data-calls/new").status_code == 404


@pytest.fixture
def people(world, system_scope):
    """Members of a1 with Vietnamese names (created in random order), each a trained internal auditor."""
    from govqms.accounts.models import User
    from govqms.competence.models import Qualification, QualificationKind
    from govqms.extensions import db
    from govqms.tenancy.models import Membership

    a1 = world.tenant_ids["a1"]
    shuffled = PEOPLE[:]
    random.Random(7).shuffle(shuffled)
    users = [User(email=f"nguoi.{i}@test.govqms.vn", name=name) for i, name in enumerate(shuffled)]
    db.session.add_all(users)
    db.session.flush()
    for user in users:
        db.session.add_all([Membership(user_id=user.id, tenant_id=a1, role="staff"),
                            Qualification(tenant_id=a1, user_id=user.id, kind=QualificationKind.INTERNAL_AUDITOR,
                                          course="Đánh giá viên nội bộ", completed_on=dt.date(2024, 6, 1))])
    db.session.commit()
    return {u.id: u.name for u in users}


def test_people_in_vietnamese_order(world, people, login_as):
    from govqms.competence.services import qualified_auditors
    from govqms.tenancy.services import member_roles, members

    a1 = world.tenant_ids["a1"]
    assert [u.name for u in members(a1) if u.id in people] == PEOPLE_EXPECTED
    assert [u.name for u, _roles in member_roles(a1) if u.id in people] == PEOPLE_EXPECTED
    assert [u.name for u in qualified_auditors(a1) if u.id in people] == PEOPLE_EXPECTED
    secretary = login_as("a1_secretary")
    listing = secretary.get(f"/t/{world.a1}/members/")
    assert [n for n in re.findall(r"<tr><td>([^<]+)</td>", listing.text) if n in PEOPLE] == PEOPLE_EXPECTED
    form = secretary.get(f"/t/{world.a1}/objectives/new")
    owner = form.text.split('name="owner_id"', 1)[1].split("</select>", 1)[0]
    assert [n for n in re.findall(r">([^<]+)</option>", owner) if n in PEOPLE] == PEOPLE_EXPECTED


def test_procedure_fields_and_catalogue_in_vietnamese_order(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.procedures.models import AdminProcedure

    fields = ["Y tế", "Đất đai", "Dân tộc", "Ăn toàn thực phẩm", "An ninh trật tự", "Âm nhạc", "Đất đai"]
    for i, field in enumerate(fields):
        db.session.add(AdminProcedure(tenant_id=world.tenant_ids["a1"], code=f"TT-{i}", name=f"Thủ tục {i}",
                                      field=field))
    db.session.commit()
    expected = ["An ninh trật tự", "Ăn toàn thực phẩm", "Âm nhạc", "Dân tộc", "Đất đai", "Y tế"]
    page = login_as("a1_staff").get(f"/t/{world.a1}/procedures/")
    assert page.status_code == 200
    select = page.text.split('name="field"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r"<option >([^<]+)</option>", select) == expected
    rows = re.findall(r'<td class="small">([^<]+)</td>', page.text)
    assert rows == ["An ninh trật tự", "Ăn toàn thực phẩm", "Âm nhạc", "Dân tộc", "Đất đai", "Đất đai", "Y tế"]
    assert login_as("b1_secretary").get(f"/t/{world.a1}/procedures/").status_code == 404


def test_document_register_and_records_catalogue_in_vietnamese_order(world, login_as, system_scope):
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.documents.services import create_document
    from govqms.extensions import db
    from govqms.records.models import RecordEntry

    a1 = world.tenant_ids["a1"]
    shuffled = NAMES[:]
    random.Random(3).shuffle(shuffled)
    with scoped(TenantScope.tenant(a1), db.session):
        for i, title in enumerate(shuffled):
            create_document(a1, code=f"VN-{i:02}", title=title, kind="form", owner_unit_id=None,
                            review_interval_months=12, drafter_id=None)
            db.session.add(RecordEntry(tenant_id=a1, name=f"Hồ sơ {title}", retention="5 năm"))
        db.session.commit()
    client = login_as("a1_secretary")
    page = client.get(f"/t/{world.a1}/documents/?sort=title&q=")
    titles = re.findall(r'<td class="text-nowrap"><a href="/t/[^/]+/documents/\d+">[^<]+</a></td>\s*<td>([^<]+)',
                        page.text)
    assert [t for t in titles if t in NAMES] == EXPECTED
    export = load_workbook(io.BytesIO(_job_download(client, client.post(f"/t/{world.a1}/documents/export",
                                                                        data={"sort": "title"})))).active
    assert [row[1] for row in export.iter_rows(min_row=2, values_only=True) if row[1] in NAMES] == EXPECTED
    catalogue = client.get(f"/t/{world.a1}/records/")
    names = [n[len("Hồ sơ "):] for n in re.findall(r"<tr><td>([^<]+)</td>", catalogue.text) if n.startswith("Hồ sơ ")]
    assert names == EXPECTED
    assert login_as("b1_secretary").get(f"/t/{world.a1}/records/").status_code == 404


def test_kinds_of_agency_are_offered_by_their_shown_name(world, login_as):
    """The kind filters of the comparison and of the schedule list the kinds by label, not by code:
    "Sở Khoa học và Công nghệ" before "Sở Y tế", although "health" < "science_technology"."""
    client = login_as("p1_overseer")
    for url, select_id in ((f"/o/{world.p1}/", "f-kind"), (f"/o/{world.p1}/schedule/", "f-agency-kind")):
        page = client.get(url)
        assert page.status_code == 200 and '<html lang="vi">' in page.text
        select = page.text.split(f'id="{select_id}"', 1)[1].split("</select>", 1)[0]
        assert re.findall(r'<option value="([a-z_]+)"[^>]*>([^<]+)</option>', select) == [
            ("science_technology", "Sở Khoa học và Công nghệ"), ("health", "Sở Y tế")]
