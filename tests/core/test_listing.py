"""The one list path: filters loaded from the query string by a schema, a page object from the query,
a page beyond the last being the last, never an error."""
from __future__ import annotations

import pytest
from marshmallow import fields, validate


@pytest.fixture
def units(app, world, system_scope):
    """Thirty units of agency a1 (codes U00…U29), two of them archived."""
    from govqms.core.db import utcnow
    from govqms.extensions import db
    from govqms.tenancy.models import Unit

    tenant_id = world.tenant_ids["a1"]
    for n in range(30):
        db.session.add(Unit(tenant_id=tenant_id, code=f"U{n:02d}", name=f"Unit {29 - n:02d}",
                            archived_at=utcnow() if n in (3, 4) else None))
    db.session.flush()
    return tenant_id


def _filter():
    from govqms.core.listing import ListArgs

    class UnitFilter(ListArgs):
        archived = fields.Boolean(load_default=False)
        order = fields.String(load_default=None, validate=validate.OneOf(("code", "name")))

    return UnitFilter


def test_filters_load_from_the_query_string_and_a_bad_value_is_as_if_not_given(app):
    from govqms.core.listing import MAX_PAGE, filters_of, list_args

    with app.test_request_context("/?archived=1&order=name&page=2&unknown=x"):
        assert list_args(_filter()) == {"archived": True, "order": "name", "page": 2}
    with app.test_request_context("/?archived=perhaps&order=drop+table&page=x"):
        assert list_args(_filter()) == {"archived": False, "order": None, "page": 1}
    with app.test_request_context("/?page=-5"):
        assert list_args(_filter())["page"] == 1
    with app.test_request_context("/?page=99999999999999999999"):
        args = list_args(_filter())
        assert args["page"] == MAX_PAGE
        assert filters_of(args) == {"archived": False, "order": None}
    assert list_args(_filter(), {"archived": "true"})["archived"] is True  # a form or a job's arguments


def test_page_of_orders_cuts_and_bounds(app, units):
    from sqlalchemy import select

    from govqms.core.listing import page_of
    from govqms.tenancy.models import Unit

    query = select(Unit).where(Unit.tenant_id == units, Unit.code.like("U%"))
    orderings = {"code": (Unit.code,), "name": (Unit.name,)}
    first = page_of(query, {"page": 1}, per_page=7, orderings=orderings)
    assert [u.code for u in first.items] == ["U00", "U01", "U02", "U03", "U04", "U05", "U06"]
    assert (first.total, first.pages, first.has_next) == (30, 5, True)
    by_name = page_of(query, {"page": 1, "order": "name"}, per_page=7, orderings=orderings)
    assert by_name.items[0].code == "U29"
    beyond = page_of(query, {"page": 400}, per_page=7, orderings=orderings)
    assert beyond.page == 5 and [u.code for u in beyond.items] == ["U28", "U29"]
    empty = page_of(query.where(Unit.code == "none"), {"page": 3}, per_page=7)
    assert empty.items == [] and empty.total == 0


def test_a_list_in_memory_has_the_same_bounds():
    from govqms.core.listing import ListPage

    page = ListPage(list(range(23)), 9, 10)
    assert (page.page, page.items, page.pages) == (3, [20, 21, 22], 3)
    assert ListPage([], 4, 10).items == []


def test_the_units_page_beyond_its_last_shows_the_last(app, world, units, login_as):
    client = login_as("a1_secretary")
    last = client.get(f"/t/{world.a1}/units/?page=2")
    beyond = client.get(f"/t/{world.a1}/units/?page=5000")
    assert beyond.status_code == 200 and "U29" in beyond.text and "U29" in last.text
    archived = client.get(f"/t/{world.a1}/units/?archived=1&page=1")
    assert "U03" in archived.text and "U03" not in client.get(f"/t/{world.a1}/units/").text
    assert client.get(f"/t/{world.a1}/units/?archived=maybe").status_code == 200
