"""Run ruff with the settings of setup.cfg's ``[tool:ruff]`` section (ruff reads no setup.cfg).

    python .ci/ruff.py check platform tests
"""
import configparser
import os
import sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]
config = configparser.ConfigParser()
config.read(root / "setup.cfg", encoding="utf-8")
options = [arg for key, value in config["tool:ruff"].items() for arg in ("--config", f"{key} = {value}")]
ruff = Path(sys.executable).with_name("ruff")
command, *rest = sys.argv[1:] or ["check", "platform", "tests"]
os.chdir(root)
os.execv(ruff, [str(ruff), command, "--no-cache", *options, *rest])
