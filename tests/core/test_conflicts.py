"""Two people on one record: the later save of a form opened before the other's change is refused with
what changed, the form shown again with its input, nothing overwritten; identical creates at the same
instant store one record and answer the other with a message, never a 500."""
from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from tests.documents.helpers import create_document
from tests.jobs.conftest import installation  # noqa: F401  (a database of this module's own)

CONFLICT = "sau khi bạn mở biểu mẫu này"  # "… after you opened this form …", in the default language


def version_of(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


def test_two_people_analysing_one_nonconformity(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.improvement.models import Nonconformity

    secretary, qmr = login_as("a1_secretary"), login_as("a1_qmr")
    url = secretary.post(f"/t/{world.a1}/improvement/nonconformities/new", data={
        "source": "self_found", "found_on": "01/03/2026", "description": "Thiếu chữ ký"}).location
    mine, theirs = secretary.get(url).text, qmr.get(url).text
    assert version_of(mine) == version_of(theirs)
    saved = qmr.post(f"{url}/analysis", data={"root_cause": "Quên ký", "correction": "",
                                              "version": version_of(theirs)})
    assert saved.status_code == 302
    late = secretary.post(f"{url}/analysis", data={"root_cause": "Không có mẫu phiếu", "correction": "Bổ sung",
                                                   "version": version_of(mine)})
    assert late.status_code == 409
    assert CONFLICT in late.text and "Quên ký" in late.text  # what the other saved, named
    assert "Không có mẫu phiếu" in late.text  # the input, kept
    nc = db.session.get(Nonconformity, int(url.rstrip("/").rsplit("/", 1)[1]))
    assert nc.root_cause == "Quên ký"  # not overwritten
    again = secretary.post(f"{url}/analysis", data={"root_cause": "Không có mẫu phiếu", "correction": "",
                                                    "version": version_of(late.text)})
    assert again.status_code == 302  # seen the current record, saved on purpose
    db.session.refresh(nc)
    assert nc.root_cause == "Không có mẫu phiếu"


def test_a_document_title_and_a_draft_summary_are_not_overwritten(world, login_as, system_scope):
    from govqms.documents.models import Document
    from govqms.extensions import db

    secretary = login_as("a1_secretary")
    document_id = create_document(secretary, world.a1, code="QT-77", title="Quy trình A")
    edit = f"/t/{world.a1}/documents/{document_id}/edit"
    mine, theirs = secretary.get(edit).text, secretary.get(edit).text
    fields = {"code": "QT-77", "kind": "work_procedure", "review_interval_months": "12"}
    assert secretary.post(edit, data={**fields, "title": "Quy trình B", "version": version_of(theirs)}
                          ).status_code == 302
    late = secretary.post(edit, data={**fields, "title": "Quy trình C", "version": version_of(mine)})
    assert late.status_code == 409 and CONFLICT in late.text and 'value="Quy trình C"' in late.text
    document = db.session.get(Document, document_id)
    assert document.title == "Quy trình B"

    draft = document.revisions[0]
    draft_url = f"/t/{world.a1}/documents/{document_id}/revisions/{draft.id}/edit"
    mine, theirs = secretary.get(draft_url).text, secretary.get(draft_url).text  # two tabs
    assert secretary.post(draft_url, data={"change_summary": "Sửa bước 2", "version": version_of(theirs)}
                          ).status_code == 302
    late = secretary.post(draft_url, data={"change_summary": "Sửa bước 3", "version": version_of(mine)})
    assert late.status_code == 409 and "Sửa bước 3" in late.text
    db.session.refresh(draft)
    assert draft.change_summary == "Sửa bước 2"


def test_every_edit_form_carries_the_version_it_shows(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Unit

    secretary = login_as("a1_secretary")
    unit = db.session.scalar(select(Unit).where(Unit.tenant_id == world.tenant_ids["a1"]))
    document_id = create_document(secretary, world.a1, code="QT-78", title="Quy trình D")
    risk = secretary.post(f"/t/{world.a1}/improvement/risks/new", data={
        "kind": "risk", "description": "Mất hồ sơ", "likelihood": "2", "impact": "3"})
    assert risk.status_code == 302
    risk_id = db.session.scalar(select(func.max(db.metadata.tables["risk"].c.id)))
    for url in (f"/t/{world.a1}/units/{unit.id}/edit", f"/t/{world.a1}/documents/{document_id}/edit",
                f"/t/{world.a1}/improvement/risks/{risk_id}/edit"):
        page = secretary.get(url)
        assert page.status_code == 200 and 'name="version"' in page.text, url
    # a form posted without one (by hand, or from a page of before) is not checked: saved as before
    assert secretary.post(f"/t/{world.a1}/units/{unit.id}/edit", data={"code": unit.code, "name": "Tên mới"}
                          ).status_code == 302


def test_an_old_unit_form_is_refused_with_who_changed_it(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Unit

    secretary = login_as("a1_secretary")
    unit = db.session.scalar(select(Unit).where(Unit.tenant_id == world.tenant_ids["a1"]))
    url = f"/t/{world.a1}/units/{unit.id}/edit"
    old = version_of(secretary.get(url).text)
    assert secretary.post(url, data={"code": unit.code, "name": "Phòng Một", "version": old}).status_code == 302
    late = secretary.post(url, data={"code": unit.code, "name": "Phòng Hai", "version": old})
    assert late.status_code == 409 and "Phòng Một" in late.text and 'value="Phòng Hai"' in late.text
    assert world.email("a1_secretary") in late.text  # who saved it meanwhile
    db.session.refresh(unit)
    assert unit.name == "Phòng Một"


def test_the_same_save_at_the_same_instant_is_caught_by_the_version_counter(app, world, system_scope):
    """Two sessions that loaded one version both write: the second UPDATE matches no row."""
    from sqlalchemy.orm.exc import StaleDataError

    from govqms.extensions import db
    from govqms.tenancy.models import Unit

    unit = db.session.scalar(select(Unit).where(Unit.tenant_id == world.tenant_ids["a1"]))
    unit.name = "Tên của phiên thứ nhất"
    db.session.flush()
    # the other session's UPDATE, written as that session would: for the version it loaded
    db.session.execute(db.update(Unit).where(Unit.id == unit.id).values(version=Unit.version + 1)
                       .execution_options(synchronize_session=False))
    unit.name = "Tên của phiên thứ hai"
    with pytest.raises(StaleDataError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.committed
def test_identical_creates_at_the_same_instant_store_one_and_answer_both(installation):  # noqa: F811
    """Two browsers post the same new unit at once (a double click, two tabs): one unit, and each
    request answered, one of them with a message, never a 500."""
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.tenancy.models import Unit

    app, world = installation.app, installation.world
    code = f"DUP{threading.get_ident() % 1000}"
    clients = [login(app.test_client(), world.email("a1_secretary")) for _ in range(2)]
    start, answers = threading.Barrier(2), []

    def post(client):
        start.wait()
        answers.append(client.post(f"/t/{world.a1}/units/new", data={"code": code, "name": "Tổ một cửa"}))

    for _round in range(3):  # the race is real: run it a few times
        threads = [threading.Thread(target=post, args=(client,)) for client in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        start.reset()
    statuses = sorted(answer.status_code for answer in answers)
    assert all(status < 500 for status in statuses), statuses
    assert statuses.count(302) == 1, statuses  # stored once; every other answer says why
    with app.app_context(), scoped(TenantScope.system()):
        units = db.session.scalars(select(Unit).where(Unit.code == code)).all()
        assert len(units) == 1
