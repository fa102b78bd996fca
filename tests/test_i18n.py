"""Language: the catalogue is complete and compiled; dates are dd/mm/yyyy."""
from __future__ import annotations

import ast
import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.conftest import ROOT

CATALOG = ROOT / "platform" / "govqms" / "translations"


def extracted_ids(tmp_path) -> set[str]:
    pot = tmp_path / "messages.pot"
    pybabel = str(Path(sys.executable).parent / "pybabel")
    subprocess.run([pybabel, "-q", "extract", "-F", str(CATALOG / "babel.cfg"),
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "--no-wrap",
                    str(ROOT / "platform" / "govqms")], check=True, capture_output=True)
    with pot.open("rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}


def test_every_interface_string_is_translated(tmp_path):
    with (CATALOG / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    missing = sorted(extracted_ids(tmp_path) - translated.keys())
    assert not missing, f"strings missing from the catalogue (run `make translations`): {missing}"
    untranslated = sorted(k for k, m in translated.items() if not m.string or m.fuzzy)
    assert not untranslated, f"untranslated or fuzzy: {untranslated}"
    for key, message in translated.items():
        assert set(re.findall(r"%\(\w+\)s", key)) == set(re.findall(r"%\(\w+\)s", message.string)), key


def test_compiled_catalogue_is_current():
    with (CATALOG / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id}
    with (CATALOG / "vi" / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert po == mo, "messages.mo is stale: run `make translations`"


VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)
#: Python files whose Vietnamese strings are data, not interface text.
DATA_STRINGS = {
    "i18n.py": "each language's own name",
    "procedures/columns.py": "column headers accepted in imported files",
    "performance/columns.py": "column headers accepted in imported files",
    "core/text.py": "the letter đ folded for search",
    "audits/clauses.py": "the clause titles of TCVN ISO 9001",
}


def _string_literals(tree):
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node


def test_no_vietnamese_strings_in_python():
    """Interface text lives in the catalogue (English msgids, Vietnamese translations); Vietnamese
    in code is only for domain terms in comments and docstrings, and the data listed above."""
    package = ROOT / "platform" / "govqms"
    offenders = []
    for path in package.rglob("*.py"):
        relative = str(path.relative_to(package))
        if relative in DATA_STRINGS or path.name in DATA_STRINGS:
            continue
        for node in _string_literals(ast.parse(path.read_text(encoding="utf-8"))):
            if VIETNAMESE.search(node.value):
                offenders.append(f"{relative}:{node.lineno}: {node.value[:40]!r}")
    assert not offenders, offenders


def test_dates_are_day_month_year(app):
    from govqms.core.i18n import format_date, format_datetime

    with app.test_request_context():
        assert format_date(dt.date(2025, 3, 1)) == "01/03/2025"
        # stored in UTC, shown in Vietnam's time (UTC+7)
        assert format_datetime(dt.datetime(2025, 2, 28, 20, 30, tzinfo=dt.timezone.utc)) == "01/03/2025 03:30"
