"""One family of "refused now", one handler: a refusal no view catches is a message, never a 500."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

from tests.conftest import test_config as app_config

ROOT = Path(__file__).resolve().parents[2] / "platform" / "govqms"


def test_every_refusal_is_one_family():
    """Every exception class named …Refused (or a frozen revision) is a core.errors.Refused, and no two
    share a name."""
    from govqms.core.errors import Refused

    found: dict[str, list[str]] = {}
    for path in ROOT.rglob("*.py"):
        module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and (node.name.endswith("Refused") or node.name == "FrozenRevision"):
                found.setdefault(node.name, []).append(module)
                cls = getattr(importlib.import_module(module), node.name)
                assert issubclass(cls, Refused), f"{module}.{node.name}"
    assert all(len(modules) == 1 for modules in found.values()), found
    assert len(found) >= 8


def test_a_refusal_no_view_catches_goes_back_with_its_message(tmp_path):
    from govqms import create_app
    from govqms.core.errors import Refused

    app = create_app(app_config(f"sqlite:///{tmp_path}/refused.db"))

    @app.route("/_refuse", methods=["GET", "POST"])
    def refuse():
        raise Refused("Không thể bước này lúc này.")

    client = app.test_client()
    back = client.post("/_refuse", headers={"Referer": "http://localhost/t/a1/documents/7"})
    assert back.status_code == 303 and back.location.endswith("/t/a1/documents/7")
    with client.session_transaction() as session:
        assert [m for _c, m in session["_flashes"]] == ["Không thể bước này lúc này."]
    elsewhere = client.post("/_refuse", headers={"Referer": "https://evil.example/x"})
    assert elsewhere.status_code == 409 and "Không thể bước này lúc này." in elsewhere.text
    page = client.get("/_refuse")
    assert page.status_code == 409 and 'data-testid="refused"' in page.text
