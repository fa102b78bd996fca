"""The packages of govqms depend downwards only: ``core`` depends on no domain (imports inside
functions included)."""
from __future__ import annotations

import ast
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


def test_core_depends_on_no_domain():
    """The clock, storage, scoping and web helpers are below every domain (imports inside functions
    counted): a domain moved into ``core`` would tie every package to it."""
    assert graph().get("core", set()) == set()
