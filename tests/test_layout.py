"""The repository's shape and the two entry points."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

TOP_LEVEL = {"platform", "tenants", "migrations", "deploy", "tests", "setup.cfg", "README.md", "Makefile",
             "pyproject.toml", ".ci"}


def test_platform_has_no_init():
    assert not (ROOT / "platform" / "__init__.py").exists(), \
        "platform/__init__.py would shadow the standard library's platform module"


def test_standard_platform_module_still_imports_from_repo_root():
    result = subprocess.run([sys.executable, "-c", "import platform; print(platform.system())"],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "Linux"


def test_top_level_is_exactly_the_agreed_set():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    top = {line.split("/", 1)[0] for line in tracked.splitlines() if line}
    assert top - {".gitignore"} <= TOP_LEVEL, f"unexpected top-level entries: {top - TOP_LEVEL - {'.gitignore'}}"


def test_console_script_works_from_any_folder(tmp_path):
    script = ROOT / ".venv" / "bin" / "govqms"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "govqms.cli"]
    result = subprocess.run([*command, "routes"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "GOVQMS_ENV": "testing"})
    assert result.returncode == 0, result.stderr
    assert "workspace.units" in result.stdout and "oversight.overview" in result.stdout
