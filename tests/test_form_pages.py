"""Every page that shows a form opens, for each role, in Vietnamese and in English.

Nobody keeps a list of form pages. The walk requests every GET route of the URL map, filled with
the ids of a record of every kind (the isolation walk's records of agency b1 and province p2, seen
this time by their own people), as each of b1's roles, p2's overseer, the operator and someone
signed out, in Vietnamese (the default) and in English. It fails on any 5xx answer, on any form
that posts without a CSRF token and on a page in the wrong language. A route that takes both GET
and POST is a page that shows a form and receives it: each must open as a form page (200, with a
form posting back to itself) for at least one role, in both languages, unless NOT_FORM_PAGES says
why not.

A new route whose URL carries an argument the walk does not know fails here and in the isolation
walk: add a record of that kind to ``make_b1_records`` / ``foreign`` there. A form page that needs
a record in a particular state gets its own value in the ``values`` fixture.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from tests.conftest import FAST_HASH, PASSWORD, login
from tests.tenancy.test_isolation_walk import _build, foreign  # noqa: F401 - ``foreign`` is a fixture

LANGUAGES = ("vi", "en")
SKIP_ENDPOINTS = {"static", "bootstrap.static", "admin.static"}
#: Agency b1's people, one per role; its ISO secretary comes from the world.
B1_ROLES = ("head", "qmr", "auditor", "staff", "viewer")
#: Routes taking GET and POST whose GET is not a form page, and why.
NOT_FORM_PAGES = {
    # Flask-Admin routes every model view; the read-only views turn them away.
    **{f"{view}.{kind}": "read-only back-office list"
       for view in ("activity_log", "invitation", "job", "jurisdiction", "notification", "tenant", "tenantmerge",
                    "unit")
       for kind in ("create_view", "edit_view")},
    "user.create_view": "accounts come from manifests and invitations",
    "accounts.login_code": "opens only between a password and its code (tests/accounts/test_two_factor.py)",
}
#: Query strings some pages need besides their URL arguments.
QUERIES = {"performance.import_mapping": "ext=csv"}  # the isolation walk's upload is a CSV file
#: The pages of issue 13, named so that the walk cannot lose them quietly.
MUST_OPEN = {"objectives.create", "objectives.edit"}
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.IGNORECASE | re.DOTALL)
POSTS = re.compile(r"""\bmethod\s*=\s*["']?post\b""", re.IGNORECASE)
ACTION = re.compile(r"""\baction\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)
CSRF_INPUT = re.compile(r"""<input\b[^>]*\bname\s*=\s*["']?csrf_token\b""", re.IGNORECASE)
HTML_LANG = re.compile(r"""<html\b[^>]*\blang\s*=\s*["']?([\w-]+)""", re.IGNORECASE)


@dataclass(repr=False)  # a failed assertion shows the list it names, not the whole walk
class Walk:
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    unprotected: list[str] = field(default_factory=list)
    wrong_language: list[str] = field(default_factory=list)
    #: endpoint -> language -> roles that opened it as a form page
    form_pages: dict[str, dict[str, set[str]]] = field(default_factory=dict)


@pytest.fixture
def people(world, system_scope):
    """Who walks: b1's members of every role, p2's overseer, the operator, and someone signed out."""
    from govqms.accounts.models import User
    from govqms.extensions import db
    from govqms.tenancy.models import Membership

    handles = {"iso_secretary": world.email("b1_secretary"), "overseer": world.email("p2_overseer"),
               "operator": world.email("operator"), "anonymous": None}
    for role in B1_ROLES:
        user = User(email=f"b1.{role}@test.govqms.vn", name=f"B1 {role}")
        user.set_password(PASSWORD, method=FAST_HASH)
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, tenant_id=world.tenant_ids["b1"], role=role))
        handles[role] = user.email
    db.session.commit()
    return handles


@pytest.fixture
def values(app, world, foreign, people, system_scope):  # noqa: F811 - the fixture imported above
    """A value for every URL argument, and for the back office the id of one row per model."""
    from flask_admin.contrib.sqla import ModelView

    from govqms.accounts.models import User
    from govqms.accounts.services import issue_invitation
    from govqms.calendars.models import CalendarFeed
    from govqms.extensions import db
    from govqms.inspections.models import Inspection
    from govqms.tenancy.merge import merge_tenant
    from govqms.tenancy.models import Jurisdiction, Tenant

    invited = User(email="b1.invited@test.govqms.vn", name="B1 invited")
    db.session.add(invited)
    db.session.flush()
    token = issue_invitation(invited)
    _store_files(foreign)
    # An agency of p2 merged into b1 while its inspection was still to come: the line the
    # overseer may drop from the plan, and a merge for the back office's merge pages.
    p2 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p2))
    merged = Tenant(slug="b-old", name="Sở Nội vụ Hai", kind="home_affairs", jurisdiction=p2)
    db.session.add(merged)
    db.session.flush()
    plan_id = db.session.get(Inspection, foreign["inspection_id"]).plan_id
    merged_inspection = Inspection(tenant_id=merged.id, plan_id=plan_id)
    db.session.add(merged_inspection)
    merge_tenant(merged, db.session.get(Tenant, world.tenant_ids["b1"]), dt.date(2026, 3, 1))
    # the isolation walk's feed is b1's; the province page revokes only its own overseer's
    overseer = db.session.scalar(select(User).where(User.email == people["overseer"]))
    jurisdiction_feed = CalendarFeed(token_hash="1" * 64, label="p2", user_id=overseer.id, jurisdiction_id=p2.id)
    db.session.add(jurisdiction_feed)
    db.session.commit()
    row_ids = {}
    for admin in app.extensions["admin"]:
        for view in admin._views:
            if isinstance(view, ModelView):
                row = db.session.scalars(select(view.model).limit(1)).first()
                assert row is not None, f"no {view.model.__name__} row for the back office {view.endpoint} pages"
                row_ids[view.endpoint] = view.get_pk_value(row)
    return {
        "url": {**foreign, "token": token, "export_type": "csv"},
        "endpoint": {"schedule.revoke_feed": {"feed_id": jurisdiction_feed.id},
                     "inspections.drop": {"inspection_id": merged_inspection.id}},
        "rows": row_ids,
    }


def _store_files(records):
    """The isolation walk's calls name files it never stores (it is refused before reading them)."""
    from govqms.core.storage import PLATFORM_FILES, get_storage
    from govqms.datacalls.models import DataCall, DataCallReply, UnitCall, UnitCallReply
    from govqms.extensions import db

    call = db.session.get(DataCall, records["call_id"])
    call.template_key = get_storage().put(PLATFORM_FILES, b"template of the province")
    unit_call = db.session.get(UnitCall, records["unit_call_id"])
    unit_call.template_key = get_storage().put(unit_call.tenant_id, b"template of the agency")
    for reply in (db.session.get(DataCallReply, records["reply_id"]),
                  db.session.get(UnitCallReply, records["unit_reply_id"])):
        reply.files = [{**f, "key": get_storage().put(reply.tenant_id, b"reply of b1")} for f in reply.files]


def _url(rule, values):
    known = {**values["url"], **values["endpoint"].get(rule.endpoint, {})}
    missing = rule.arguments - known.keys()
    assert not missing, f"{rule.rule}: no value for {sorted(missing)} (see the module docstring)"
    url = _build(rule, {arg: known[arg] for arg in rule.arguments})
    view, _, kind = rule.endpoint.rpartition(".")
    if view in values["rows"] and kind in ("edit_view", "details_view"):  # Flask-Admin takes the row as ?id=
        return f"{url}?id={values['rows'][view]}"
    return f"{url}?{QUERIES[rule.endpoint]}" if rule.endpoint in QUERIES else url


def _forms(html: str):
    """(action, posts, has CSRF input) of each form of a page."""
    for match in FORM.finditer(html):
        attributes, body = match.groups()
        action = ACTION.search(attributes)
        yield (action.group(2) if action else ""), bool(POSTS.search(attributes)), bool(CSRF_INPUT.search(body))


def _posts_to_itself(action: str, url: str) -> bool:
    action = action.replace("&amp;", "&")
    return action in ("", url, url.split("?")[0]) or action.startswith("?")


def _walk(client, role, language, urls, walk: Walk):
    for endpoint, url, takes_post in urls:
        where = f"{role}/{language} GET {url}"
        walk.requests += 1
        try:
            response = client.get(url)
        except Exception as exc:  # noqa: BLE001 - the app propagates errors under TESTING: a 500 in production
            walk.failures.append(f"{where} -> {type(exc).__name__}: {exc}")
            continue
        if response.status_code >= 500:
            walk.failures.append(f"{where} -> {response.status_code}")
            continue
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        declared = HTML_LANG.search(html)  # the back office's pages declare none
        if declared and declared.group(1) != language:
            walk.wrong_language.append(f"{where}: <html lang={declared.group(1)!r}>")
        form_page = False
        for action, posts, protected in _forms(html):
            if not posts:
                continue
            if not protected:
                walk.unprotected.append(f"{where}: <form action={action!r}> has no csrf_token input")
            form_page |= _posts_to_itself(action, url)
        if form_page and takes_post:
            walk.form_pages.setdefault(endpoint, {}).setdefault(language, set()).add(role)


def _client(app, email):
    client = app.test_client()
    return login(client, email) if email else client


def test_every_form_page_opens_for_every_role_in_both_languages(app, people, values):
    rules = [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint not in SKIP_ENDPOINTS]
    urls = [(rule.endpoint, _url(rule, values), "POST" in rule.methods) for rule in rules]
    walk = Walk()
    for role, email in people.items():
        client = _client(app, email)
        # Only the operator has anything under /admin/; the isolation walk checks the others are refused.
        own = [u for u in urls if role == "operator" or not u[1].startswith("/admin")]
        for language in LANGUAGES:
            if language != app.config["BABEL_DEFAULT_LOCALE"]:  # the default is nobody's choice
                assert client.post("/language", data={"locale": language}).status_code == 302
            _walk(client, role, language, own, walk)

    assert not walk.failures, "pages answering 5xx:\n" + "\n".join(walk.failures)
    assert not walk.unprotected, "forms posting without a CSRF token:\n" + "\n".join(walk.unprotected)
    assert not walk.wrong_language, "pages in the wrong language:\n" + "\n".join(walk.wrong_language)
    form_routes = {endpoint for endpoint, _, takes_post in urls if takes_post} - NOT_FORM_PAGES.keys()
    unopened = sorted(f"{endpoint} ({', '.join(lang for lang in LANGUAGES if lang not in opened)})"
                      for endpoint in form_routes
                      if len(opened := walk.form_pages.get(endpoint, {})) < len(LANGUAGES))
    assert not unopened, ("GET+POST routes that opened as a form page for no role (in the languages named); "
                          "give the walk a record that reaches them, or say in NOT_FORM_PAGES why they are "
                          "not form pages:\n" + "\n".join(unopened))
    for endpoint in MUST_OPEN:
        assert walk.form_pages.get(endpoint, {}).keys() == set(LANGUAGES), endpoint
    stale = sorted(NOT_FORM_PAGES.keys() & walk.form_pages.keys())
    assert not stale, f"these open as form pages now; remove them from NOT_FORM_PAGES: {stale}"
    # guards the walk itself: most routes are form pages, and each role walks every route
    assert len(walk.form_pages) >= 50 and walk.requests > 1500, (len(walk.form_pages), walk.requests)


@pytest.mark.parametrize(("language", "hint"), [("vi", "ví dụ: %, hồ sơ, lớp"), ("en", "e.g. %, hồ sơ, lớp")])
def test_objective_form_shows_its_percent_hint(world, login_as, language, hint):
    """Jinja's gettext %-formats every message: a bare % in a msgid broke this page (issue 13)."""
    client = login_as("a1_secretary")
    if language != "vi":
        client.post("/language", data={"locale": language})
    page = client.get(f"/t/{world.a1}/objectives/new")
    assert page.status_code == 200 and hint in page.text
