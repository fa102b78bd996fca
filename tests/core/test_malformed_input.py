"""No input is a server error: every route of the URL map, as each kind of user, with malformed values.

The walk reuses the form-page walk's world (a record of every kind in agency b1 and province p2, seen
by their own people) and sends, as someone signed out, b1's ISO secretary and head, p2's overseer and
the operator:

- every route with each argument of its path replaced by a value no record has (beyond an INTEGER
  column, negative, zero, NUL, control characters, a 2,000-character word, broken UTF-8);
- every GET route with query strings whose parameters (those the lists and pages read, and those of
  the search forms found on the pages) are NUL, control characters, numbers beyond any column, dates
  out of any calendar (``01/01/0001``, ``31/12/9999``, ``31/02/2024``), page and year numbers out of range;
- every POST route with the fields of its form (found on the pages the walk opened), first filled as a
  person would, then with one field at a time malformed in the same ways (and a 100,000-character text),
  and once with NUL in every field.

Sending every value to every field of every route as every user would take hours: the values go round
the routes, fields and users, so each kind of value reaches every route. The walk fails on any 5xx answer
(or exception: under TESTING the app raises what production would answer with a 500) and says how many
requests it sent.
"""
from __future__ import annotations

import datetime as dt
import io
import itertools
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import select

from tests import test_form_pages as form_pages
from tests.tenancy import test_isolation_walk as isolation_walk
from tests.test_form_pages import SKIP_ENDPOINTS, _client, _url

#: The form-page walk's fixtures: the world's records of every kind, and who walks.
foreign, people, values = isolation_walk.foreign, form_pages.people, form_pages.values

#: Who walks (handles of the form-page walk's ``people``).
ROLES = ("anonymous", "iso_secretary", "head", "overseer", "operator")
#: POST routes the walk leaves alone: signing out would end the walk's session.
SKIP_POSTS = {"accounts.logout"}

HUGE = str(10**30)
CONTROL = "a\x01\x02\x08\x0b\x0c\x1b\x1f\x7fz"
#: A path argument that is an id: beyond an INTEGER column, far beyond any column, zero, negative, NUL.
BAD_IDS = ("2147483648", HUGE, "0", "-1", "%00", "1%00")
#: A path argument that is a word (an agency's slug, a token, a file name).
BAD_WORDS = ("%00", "a%01b", "x" * 2000, "%C3%28", "%0D%0Ax", "..")
#: What people (and scripts) put in a field.
BAD_VALUES = ("\x00", CONTROL, HUGE, "-" + HUGE, "x" * 100_000, "31/02/2024", "01/01/0001", "31/12/9999",
              "1e309", "NaN", "-1", str(2**31), "2024-13-45", "\x00" + "x" * 300)
#: Query parameters the pages read; the search forms found on the pages add theirs.
QUERY_PARAMS = {"page", "on", "year", "q", "field", "kind", "level", "edition", "overdue", "sort", "order",
                "archived", "unread", "status", "all", "open", "unit", "entity", "agency_kind", "uncovered",
                "ext", "next", "id", "month", "date", "search", "url"}
DATE_LIKE = re.compile(r"(^|_)(on|date|day|from|to|start|end|deadline|due)$")


def _query(label: str, params: list[str]) -> str:
    """One malformed query string: every parameter of *params* set the way *label* says."""
    if label == "utf8":  # not UTF-8 at all: percent-encoded bytes of no character
        return "&".join(f"{p}=%C3%28%FF" for p in params)
    if label == "ancient":
        value = {"year": "0", "page": "-1", "month": "0"}
        return urlencode({p: value.get(p, "01/01/0001") for p in params})
    if label == "far":
        value = {"year": "99999", "page": HUGE, "month": "13"}
        return urlencode({p: value.get(p, "31/12/9999") for p in params})
    value = {"nul": "\x00", "control": CONTROL, "huge": HUGE, "negative": "-" + HUGE, "impossible": "31/02/2024",
             "long": "x" * 5000, "zero": "0"}[label]
    return urlencode({p: value for p in params})


QUERY_LABELS = ("nul", "ancient", "far", "huge", "control", "negative", "impossible", "long", "utf8", "zero")
#: Each query's values one parameter at a time, for the dates the pages read.
SINGLE_QUERIES = ("on=01/01/0001", "on=31/12/9999", "on=%00", "year=0", "year=" + HUGE, "page=-1",
                  "page=" + HUGE)


@dataclass
class Field:
    name: str
    kind: str  # input type, "select" or "textarea"
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    method: str
    action: str
    fields: list[Field] = field(default_factory=list)


class FormParser(HTMLParser):
    """The forms of a page, with their fields and the values a person would leave in them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = Form(attrs.get("method", "get").lower(), attrs.get("action", ""))
            self.forms.append(self._form)
        elif self._form is None or not attrs.get("name") and tag != "option":
            return
        elif tag == "input":
            kind = attrs.get("type", "text").lower()
            if kind in ("submit", "button", "reset", "image") or attrs["name"] == "csrf_token":
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                value = ""  # not sent unless ticked: the baseline leaves it so
                if any(f.name == attrs["name"] for f in self._form.fields):
                    return
            else:
                value = attrs.get("value", "on" if kind == "checkbox" else "")
            self._form.fields.append(Field(attrs["name"], kind, value))
        elif tag == "select":
            self._select = Field(attrs["name"], "select")
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            if value:
                self._select.options.append(value)
                if "selected" in attrs or not self._select.value:
                    self._select.value = value
        elif tag == "textarea":
            self._textarea = Field(attrs["name"], "textarea")
            self._form.fields.append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _forms(html: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def _filled(field_: Field) -> str:
    """What a person would type in an empty field."""
    if field_.value:
        return field_.value
    name = field_.name.lower()
    if field_.kind == "number" or name.endswith(("_id", "count", "index", "target", "value", "cost")):
        return {"year": "2026", "month": "6"}.get(name, "1")
    if name in ("year", "month"):
        return {"year": "2026", "month": "6"}[name]
    if field_.kind == "date" or DATE_LIKE.search(name):
        return "15/06/2026"
    if name.startswith("period"):
        return "06/2026"
    if field_.kind == "email" or "email" in name:
        return "someone@test.govqms.vn"
    return "KT-1" if name == "code" else "Kiểm thử"


@dataclass(repr=False)
class Walk:
    requests: int = 0
    failures: list[str] = field(default_factory=list)

    def send(self, client, method: str, url: str, role: str, note: str = "", **kwargs):
        self.requests += 1
        where = f"{role} {method} {_short(url)}{' ' + note if note else ''}"
        try:
            response = client.open(url, method=method, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the app propagates errors under TESTING: a 500 in production
            self.failures.append(f"{where} -> {type(exc).__name__}: {_short(str(exc))}")
            return None
        if response.status_code >= 500:
            self.failures.append(f"{where} -> {response.status_code}")
        return response


def _short(text: str, limit: int = 160) -> str:
    text = text.replace("x" * 100, "x…")
    return text if len(text) <= limit else text[:limit] + "…"


_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _with_argument(rule, valid_url: str, values_: dict, name: str, bad: str) -> str:
    """The rule's URL with its argument *name* replaced by *bad* (the others valid)."""
    known = {**values_["url"], **values_["endpoint"].get(rule.endpoint, {})}

    def fill(match):
        return bad if match.group(2) == name else str(known[match.group(2)])

    query = urlsplit(valid_url).query
    return _ARGUMENT.sub(fill, rule.rule) + (f"?{query}" if query else "")


def _is_id(rule, name: str) -> bool:
    from werkzeug.routing import IntegerConverter

    return isinstance(rule._converters.get(name), IntegerConverter)


def _posted(form: Form, malformed: dict[str, str], files: dict) -> dict:
    data = {}
    for field_ in form.fields:
        if field_.kind == "file":
            continue
        value = malformed.get(field_.name, _filled(field_))
        if field_.kind in ("checkbox", "radio") and field_.name not in malformed and not field_.value:
            continue
        data.setdefault(field_.name, []).append(value)
    for name, content in files.items():
        data[name] = content
    return data


def _files(form: Form, bad_file: bool, turn: int):
    names = [f.name for f in form.fields if f.kind == "file"]
    if not names:
        return {}
    if bad_file:
        name, content = [("bad\x00name.csv", "Kỳ;Tiếp nhận\n01/2025;" + HUGE + "\n"),
                         ("x\x01\r\n.pdf", "%PDF-1.4\x00"),
                         ("rows.csv", "Mã;Tên;Lĩnh vực\n\x00X;\x01;" + "y" * 300 + "\n")][turn % 3]
    else:
        name, content = "rows.csv", "Mã;Tên\nX-1;Thủ tục\n"
    return {n: (io.BytesIO(content.encode()), name) for n in names}


def _walk(app, people, values, roles, rules, query_params) -> Walk:
    """Open every page (to find its forms), then send the malformed requests, as each of *roles*."""
    walk = Walk()
    clients = {role: _client(app, people[role]) for role in roles}
    bad_ids, bad_words = itertools.cycle(BAD_IDS), itertools.cycle(BAD_WORDS)
    bad_values, queries = itertools.cycle(BAD_VALUES), itertools.cycle(QUERY_LABELS)
    singles, turn = itertools.cycle(SINGLE_QUERIES), itertools.count()

    # 1. Every page, as each role opens it: its forms (the fields each POST route reads) and search fields.
    forms: dict[str, list[Form]] = {}
    query_params = set(query_params)
    for role in roles:
        for rule in rules:
            if "GET" not in rule.methods:
                continue
            url = _url(rule, values)
            response = walk.send(clients[role], "GET", url, role)
            if response is None or response.status_code != 200 or response.mimetype != "text/html":
                continue
            for form in _forms(response.get_data(as_text=True)):
                if form.method == "post":
                    forms.setdefault(urlsplit(form.action.replace("&amp;", "&") or url).path, []).append(form)
                else:
                    query_params |= {f.name for f in form.fields}
    query_params = sorted(query_params)

    for role in roles:
        client = clients[role]
        for rule in rules:
            method = "GET" if "GET" in rule.methods else "POST"
            url = _url(rule, values)
            # 2. Each path argument replaced by a value no record has.
            for name in sorted(rule.arguments):
                bad = next(bad_ids) if _is_id(rule, name) else next(bad_words)
                walk.send(client, method, _with_argument(rule, url, values, name, bad), role, f"[{name}]")
            # 3. Malformed query strings: every parameter at once, and the dates and numbers one at a time.
            if method == "GET":
                joiner = "&" if "?" in url else "?"
                for _ in range(2):
                    walk.send(client, "GET", url + joiner + _query(next(queries), query_params), role)
                walk.send(client, "GET", url + joiner + next(singles), role)
        # 4. Every form post, one field at a time malformed (deleting forms last).
        for rule in sorted(rules, key=lambda r: "delete" in r.endpoint):
            if "POST" not in rule.methods or rule.endpoint in SKIP_POSTS:
                continue
            url = _url(rule, values)
            found = forms.get(urlsplit(url).path) or [Form("post", url, [Field(n, "text") for n in (
                "name", "code", "title", "year", "date", "id", "value")])]
            form = max(found, key=lambda f: len(f.fields))
            names = list(dict.fromkeys(f.name for f in form.fields if f.kind != "file"))
            for name in names[:8] or [None]:
                malformed = {name: next(bad_values)} if name else {}
                step = next(turn)
                walk.send(client, "POST", url, role, f"[{name}]",
                          data=_posted(form, malformed, _files(form, step % 2 == 0, step)))
            every = dict.fromkeys((f.name for f in form.fields if f.kind != "file"), "\x00")
            walk.send(client, "POST", url, role, "[every field NUL]", data=_posted(form, every, {}))
    return walk


def _report(app, capsys, record_property, walk: Walk, what: str, started: float) -> None:
    elapsed = time.monotonic() - started
    record_property("malformed_requests", walk.requests)
    with capsys.disabled():
        print(f"\n{what} ({app.config['BACKEND']}): {walk.requests} malformed requests in {elapsed:.1f} s, "
              f"{len(walk.failures)} server errors")


def test_no_malformed_input_is_a_server_error(app, people, values, capsys, record_property):
    """Every route but the back office's, as someone signed out, b1's secretary and head, p2's overseer
    and the operator."""
    started = time.monotonic()
    rules = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint not in SKIP_ENDPOINTS and not rule.rule.startswith("/admin")]
    walk = _walk(app, people, values, ROLES, rules, QUERY_PARAMS)
    _report(app, capsys, record_property, walk, "malformed input walk", started)
    assert not walk.failures, f"{len(walk.failures)} server errors:\n" + "\n".join(walk.failures)
    assert walk.requests > 3000, walk.requests  # guards the walk itself


#: The back office's list arguments (Flask-Admin's): the page, its size, the sort column and every
#: filter (``flt<position>_<filter>``).
BACK_OFFICE_PARAMS = {"page", "page_size", "sort", "desc", "search", "id", "url",
                      *(f"flt0_{index}" for index in range(40))}


def test_no_malformed_input_is_a_server_error_in_the_back_office(app, people, values, capsys, record_property):
    """The back office (Flask-Admin), as the operator: its lists' page, sort and filters from the
    query string, the ``id`` of a row, and its forms."""
    started = time.monotonic()
    rules = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint not in SKIP_ENDPOINTS and rule.rule.startswith("/admin")]
    walk = _walk(app, people, values, ("operator",), rules, BACK_OFFICE_PARAMS)
    _report(app, capsys, record_property, walk, "malformed input walk, back office", started)
    assert not walk.failures, f"{len(walk.failures)} server errors:\n" + "\n".join(walk.failures)
    assert walk.requests > 300, walk.requests  # guards the walk itself


# --- what the walk found, one by one --------------------------------------------------------------

@pytest.mark.parametrize("request_", [
    ("GET", "/login?next=%00", {}),
    ("GET", "/login?next=a%01b", {}),
    ("GET", "/t/%00/", {}),
    ("POST", "/login", {"data": {"email": "\x00", "password": "x"}}),
    ("POST", "/login", {"data": {"email": "a@b.vn", "password": "x"}, "file": "a\x00b.pdf"}),
    ("POST", "/login", {"data": {"email": "a@b.vn", "password": "x"}, "file": "a\x1bb.pdf"}),
])
def test_a_control_character_in_the_address_or_a_form_is_refused_with_a_message(app, request_):
    method, url, kwargs = request_
    if "file" in kwargs:
        kwargs = {"data": {**kwargs["data"], "file": (io.BytesIO(b"%PDF-1.4"), kwargs["file"])}}
    response = app.test_client().open(url, method=method, **kwargs)
    assert response.status_code == 400
    assert "Ký tự không dùng được" in response.text


def test_a_pasted_texts_invisible_characters_are_removed_and_its_breaks_kept(app):
    from govqms.core.schemas import InputSchema, TrimmedString

    class Note(InputSchema):
        text = TrimmedString()

    assert Note().load({"text": " Dòng một\x0bdòng hai\x07\x1b\tcột\r\n "}) == {"text": "Dòng một\ndòng hai\tcột"}


def test_numbers_and_dates_are_held_within_their_columns(app):
    from marshmallow import ValidationError, fields

    from govqms.core.schemas import FormDate, InputSchema

    class Entry(InputSchema):
        count = fields.Integer()
        ids = fields.List(fields.Integer())
        day = FormDate()
        iso_day = fields.Date()
        amount = fields.Float()

    with app.test_request_context():
        for data in ({"count": str(10**30)}, {"count": str(-2**31 - 1)}, {"ids": ["1", str(2**31)]},
                     {"day": "01/01/0001"}, {"day": "31/12/9999"}, {"iso_day": "9999-12-31"}, {"amount": "1e309"}):
            with pytest.raises(ValidationError) as refused:
                Entry().load(data)
            assert set(refused.value.messages) == set(data)
        assert Entry().load({"count": str(2**31 - 1), "day": "01/01/1900", "iso_day": "2100-12-31"}) == {
            "count": 2**31 - 1, "day": dt.date(1900, 1, 1), "iso_day": dt.date(2100, 12, 31)}


@pytest.mark.parametrize("on", ["01/01/0001", "31/12/9999", "19/04/2014"])
def test_a_comparison_as_of_a_day_without_rules_shows_today_and_says_why(world, login_as, on):
    page = login_as("p1_overseer").get(f"/o/{world.p1}/?on={on}")
    assert page.status_code == 200
    assert "20/04/2014" in page.text and "31/12/2100" in page.text  # the days it can be asked for


PERFORMANCE_HEADER = "Kỳ báo cáo;Mã TTHC;Tiếp nhận;Trước hạn;Đúng hạn;Quá hạn;Đang giải quyết\n"


@pytest.mark.parametrize(("rows", "problem"), [
    (["01/2025;1.001;10;2;7;0;1", f"02/2025;1.002;{10**30};2;7;0;1"], (3, "Tiếp nhận")),
    (["01/2025;1.001;10;2;7;0;1", f"02/2025;1.002;10;2;7;0;{-10**30}"], (3, "Đang giải quyết")),
    (["01/2025;1.001;10;2;7;0;1", "02/2025;1.0\x0002;10;2;7;0;1"], (3, "Mã TTHC")),
])
def test_a_service_results_row_beyond_its_columns_is_refused_and_nothing_written(world, system_scope, rows,
                                                                                 problem):
    from govqms.core.imports import ImportRefused
    from govqms.performance.services import import_service_results

    tenant_id = world.tenant_ids["a1"]
    with _in_agency(tenant_id), pytest.raises(ImportRefused) as refused:
        import_service_results(tenant_id, (PERFORMANCE_HEADER + "\n".join(rows) + "\n").encode(), "csv")
    assert {(e.row, e.column) for e in refused.value.errors} == {problem}
    assert _count(tenant_id, "performance.models", "ServiceResult") == 0


@pytest.mark.parametrize(("row", "column"), [
    ("X-\x002;Thủ tục hai;Tư pháp", "Mã thủ tục"),
    ("X-2;Thủ tục\x00 hai;Tư pháp", "Tên thủ tục"),
    ("X-2;Thủ tục hai;Tư\x00 pháp", "Lĩnh vực"),
])
def test_a_procedure_row_the_database_cannot_store_is_refused_and_nothing_written(world, system_scope, row, column):
    from govqms.core.imports import ImportRefused
    from govqms.procedures.services import import_catalogue

    tenant_id = world.tenant_ids["a1"]
    data = f"Mã thủ tục;Tên thủ tục;Lĩnh vực\nX-1;Thủ tục một;Tư pháp\n{row}\n".encode()
    with _in_agency(tenant_id), pytest.raises(ImportRefused) as refused:
        import_catalogue(tenant_id, data, "csv")
    assert [(e.row, e.column) for e in refused.value.errors] == [(3, column)]
    assert _count(tenant_id, "procedures.models", "AdminProcedure") == 0


def test_a_procedure_rows_pasted_control_characters_are_removed(world, system_scope):
    from govqms.procedures.services import import_catalogue

    tenant_id = world.tenant_ids["a1"]
    with _in_agency(tenant_id):
        assert import_catalogue(tenant_id, "Mã thủ tục;Tên thủ tục\nX-1;Thủ\x07 tục\x0bmột\n".encode(), "csv") == (1, 0)
        from govqms.extensions import db
        from govqms.procedures.models import AdminProcedure

        assert db.session.scalars(select(AdminProcedure.name).where(
            AdminProcedure.tenant_id == tenant_id)).all() == ["Thủ tục\nmột"]


def _in_agency(tenant_id: int):
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db

    return scoped(TenantScope.tenant(tenant_id), db.session)


def _count(tenant_id: int, module: str, model: str) -> int:
    import importlib

    from sqlalchemy import func

    from govqms.extensions import db

    found = getattr(importlib.import_module(f"govqms.{module}"), model)
    return db.session.scalar(select(func.count()).select_from(found).where(found.tenant_id == tenant_id))
