"""The packages of govqms depend downwards only: no cycle between packages (imports inside functions
included), and ``core`` depends on no domain."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "platform" / "govqms"


def package_of(module: str) -> str | None:
    """``govqms.documents.services`` → ``documents``; top-level modules (``govqms.cli``) are the app."""
    parts = module.split(".")
    if parts[0] != "govqms" or len(parts) < 2:
        return None
    return parts[1] if (ROOT / parts[1]).is_dir() else None


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT.parent).with_suffix("")
        module = ".".join(relative.parts)
        source = package_of(module)
        if source is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                target = package_of(name)
                if target and target != source:
                    edges.setdefault(source, set()).add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one package (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(set(edges) | {t for ts in edges.values() for t in ts}):
        if node not in index:
            visit(node)
    return found


def test_no_cycle_between_packages():
    """Each package depends downwards only: a cycle would tie them into one knot again. A package that
    needs something of one above it takes it through a registry the upper one fills (reminder sources,
    schedule sources, cleanup steps, a document's related records), discovered at start-up."""
    assert cycles(graph()) == []


def test_core_depends_on_no_domain():
    """The clock, storage, scoping and web helpers are below every domain (imports inside functions
    counted): a domain moved into ``core`` would tie every package to it."""
    assert graph().get("core", set()) == set()


#: what only a service does: build a query, add or delete a record, set fields by name
SERVICE_ONLY = re.compile(r"\bselect\(|db\.session\.add|db\.session\.delete|\bsetattr\(")


def test_views_issue_no_query_and_write_nothing_themselves():
    """Views are thin (load, check permission, call the service, render): every ``views.py``, the back
    office's included, leaves queries and writes to its domain's services."""
    offenders = []
    for path in sorted(ROOT.rglob("views.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SERVICE_ONLY.search(line.split("#", 1)[0]):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_view_check_finds_what_it_looks_for():
    """The pattern above is not a pattern that matches nothing."""
    for line in ("rows = db.session.scalars(select(Unit))", "db.session.add(unit)", "db.session.delete(unit)",
                 "setattr(unit, key, value)", "db.session.add_all([a, b])"):
        assert SERVICE_ONLY.search(line), line
    for line in ("services.select_units(tenant)", "render_template('x.html')", "form_data()"):
        assert not SERVICE_ONLY.search(line), line
