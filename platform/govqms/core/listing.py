"""The one way to list: a filter schema loaded from the query string, a service that builds the
query, and :func:`page_of` that orders it and cuts the page.

A list view reads ``args = list_args(SomeFilter)``, passes ``args`` to its domain's service, which
returns ``page_of(query, args, per_page=…)``: a page object (Flask-SQLAlchemy's ``Pagination``, the
interface the ``pager`` macro reads). A list already computed in memory is cut by :class:`ListPage`,
with the same interface.

The query string is typed by people and by old bookmarks: a filter value that does not parse is as if
not given, a page number is between 1 and the last page (a larger one is the last page), never an
error.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from flask import request
from flask_sqlalchemy.pagination import Pagination
from marshmallow import ValidationError, fields

from govqms.core.schemas import InputSchema
from govqms.extensions import db

#: No list has this many pages; a larger number asked for is the last page.
MAX_PAGE = 100_000


class PageNumber(fields.Integer):
    """``page``: a whole number, held between 1 and MAX_PAGE (the last page is found by the query)."""

    def _deserialize(self, value, attr, data, **kwargs):
        number = super()._deserialize(value, attr, data, **kwargs)
        return min(MAX_PAGE, max(1, number))


class ListArgs(InputSchema):
    """The query string of every list page; a list's filter schema adds its own fields, and
    ``order`` when it can be sorted (a ``OneOf`` of the service's orderings)."""

    page = PageNumber(load_default=1)


def list_args(schema_class: type[ListArgs] = ListArgs, source: Mapping | None = None) -> dict:
    """The filters of the list page, loaded from the query string (or *source*) by *schema_class*.
    A field that does not parse takes its default, so a stale or mistyped link still opens the list."""
    raw = source if source is not None else request.args
    data = {key: raw.get(key) for key in raw}
    schema = schema_class()
    while True:
        try:
            return schema.load(data)
        except ValidationError as err:
            wrong = set(err.messages) & set(data)
            if not wrong:  # a rule across fields: the list unfiltered
                return schema.load({})
            data = {key: value for key, value in data.items() if key not in wrong}


def filters_of(args: Mapping) -> dict:
    """The loaded filters without the page number, for the links of the pager and of sorting."""
    return {key: value for key, value in args.items() if key != "page"}


def ordering(query, name: str | None, orderings: Mapping[str, Sequence]):
    """*query* ordered by the ordering *name* of *orderings*, the first one by default."""
    columns = orderings.get(name or "") or next(iter(orderings.values()))
    return query.order_by(*columns)


def page_of(query, args: Mapping, *, per_page: int, orderings: Mapping[str, Sequence] | None = None) -> Pagination:
    """The page ``args["page"]`` of *query* (ordered by ``args["order"]`` among *orderings* when given);
    a page beyond the last is the last page."""
    if orderings:
        query = ordering(query, args.get("order"), orderings)
    number = args.get("page", 1)
    page = db.paginate(query, page=number, per_page=per_page, error_out=False)
    if number > 1 and not page.items and page.total:
        page = db.paginate(query, page=page.pages, per_page=per_page, error_out=False)
    return page


class ListPage(Pagination):
    """One page of a list already in memory (a computed comparison, say), with the same interface
    as :func:`page_of`, a page beyond the last being the last. Flask-SQLAlchemy's
    :class:`Pagination` is meant to be subclassed with these two methods."""

    def __init__(self, items: list, page: int, per_page: int) -> None:
        self._all = items
        page = min(page, max(1, math.ceil(len(items) / per_page)))
        super().__init__(page=page, per_page=per_page, max_per_page=None, error_out=False)

    def _query_items(self) -> list:
        return self._all[self._query_offset:self._query_offset + self.per_page]

    def _query_count(self) -> int:
        return len(self._all)
