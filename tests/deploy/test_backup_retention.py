"""deploy/backup-retention.sh, as govqms-backup.service runs it after each nightly backup."""
from __future__ import annotations

import subprocess

from tests.conftest import ROOT

SCRIPT = ROOT / "deploy" / "backup-retention.sh"


def backups(root, *names, complete=True):
    for name in names:
        (root / name / "files").mkdir(parents=True)
        if complete:
            (root / name / "manifest.json").write_text("{}")


def retain(root, *args):
    return subprocess.run(["sh", str(SCRIPT), str(root), *args], capture_output=True, text=True, timeout=30)


def test_keeps_the_newest_complete_backups_and_deletes_the_older(tmp_path):
    nights = [f"202611{day:02d}T200000Z" for day in range(1, 21)]
    backups(tmp_path, *nights)
    backups(tmp_path, "20261121T200000Z", complete=False)  # still running, or died: not counted, not deleted
    backups(tmp_path, "20261105T200001Z", complete=False)  # an old one that died: deleted with the old ones
    (tmp_path / "notes").mkdir()
    (tmp_path / "offsite.log").write_text("")
    result = retain(tmp_path, "14")
    assert result.returncode == 0, result.stderr
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([*nights[-14:], "20261121T200000Z", "notes", "offsite.log"])


def test_a_run_of_failed_nights_deletes_no_good_backup(tmp_path):
    backups(tmp_path, "20261101T200000Z", "20261102T200000Z")
    backups(tmp_path, *(f"202611{day:02d}T200000Z" for day in range(3, 30)), complete=False)
    assert retain(tmp_path, "2").returncode == 0
    assert (tmp_path / "20261101T200000Z").exists() and (tmp_path / "20261102T200000Z").exists()


def test_refuses_a_count_that_is_not_a_whole_number(tmp_path):
    backups(tmp_path, "20261101T200000Z")
    for bad in ("0", "two", "-1"):
        result = retain(tmp_path, bad)
        assert result.returncode == 2 and "KEEP" in result.stderr
    assert (tmp_path / "20261101T200000Z").exists()
