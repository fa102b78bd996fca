"""An id in a URL larger than an INTEGER column holds is a page not found, on every route."""
from __future__ import annotations


def test_an_id_beyond_the_column_is_not_found_on_every_route(app, world, login_as):
    from werkzeug.routing import IntegerConverter

    huge = 2**31
    client = login_as("a1_secretary")
    checked = 0
    for rule in app.url_map.iter_rules():
        ints = [name for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)]
        if not ints or "GET" not in rule.methods:
            continue
        path = rule.rule
        for name in rule.arguments:
            value = huge if name in ints else {"tenant_slug": world.a1, "jurisdiction_code": world.p1}.get(name, "x")
            path = path.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
            path = path.replace(f"<string:{name}>", str(value)).replace(f"<path:{name}>", str(value))
        response = client.get(path)
        assert response.status_code == 404, (rule.rule, response.status_code)
        checked += 1
    assert checked >= 15


def test_a_page_number_beyond_any_list_is_never_a_server_error(app, world, login_as):
    """Every list page (an agency's and an overseer's) with ``?page=`` far beyond its pages."""
    checked = 0
    for role, prefix in (("a1_secretary", "/t/<tenant_slug>"), ("p1_overseer", "/o/<jurisdiction_code>")):
        client = login_as(role)
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or not rule.rule.startswith(prefix) or set(rule.arguments) - {
                    "tenant_slug", "jurisdiction_code"}:
                continue
            path = rule.rule.replace("<tenant_slug>", world.a1).replace("<jurisdiction_code>", world.p1)
            for page in ("99999999999999999999", "-5", "x"):
                response = client.get(f"{path}?page={page}")
                assert response.status_code < 500, (path, page, response.status_code)
                checked += 1
    assert checked > 50
