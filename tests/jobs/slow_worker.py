"""The real ``govqms worker``, with a pause after each progress report of a job.

``python -m tests.jobs.slow_worker worker --burst`` (from the repository root) runs the command
line as ``govqms`` does. After each progress report, the work horse writes ``<pid> <done>`` to
``GOVQMS_TEST_HORSE_PID_FILE`` and sleeps ``GOVQMS_TEST_PROGRESS_PAUSE`` seconds (only once *done*
reaches ``GOVQMS_TEST_PAUSE_FROM``, when set): a test can then
kill it at a known point of an import (between two batches) instead of guessing from timing.
Tests only; the application has no such hook.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from govqms.cli import main
from govqms.jobs.services import JobHandle

_report = JobHandle.progress


def _report_then_pause(self, done: int, total: int, message: str | None = None) -> None:
    _report(self, done, total, message)
    if done < int(os.environ.get("GOVQMS_TEST_PAUSE_FROM", "0")):
        return  # an earlier report (e.g. "checked"): go on to the first batch written
    announced = Path(os.environ["GOVQMS_TEST_HORSE_PID_FILE"])
    partial = announced.with_suffix(".part")
    partial.write_text(f"{os.getpid()} {done}")
    partial.replace(announced)  # the test never reads half a line
    time.sleep(float(os.environ.get("GOVQMS_TEST_PROGRESS_PAUSE", "30")))


JobHandle.progress = _report_then_pause

if __name__ == "__main__":
    main()
