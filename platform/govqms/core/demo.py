"""Demo content, declared by each domain: ``<domain>/demo.py`` registers its steps with :func:`demo_step`
and records what it shows through its own services, as the pages would; the words come from the demo
content file (``tenants/demo/content.yaml``), never from Python. ``govqms demo`` (``govqms.demo``)
discovers the modules, then runs the steps in their order with one :class:`DemoContext`.

A step returns how many things it recorded, and records nothing when its records are there already
(running the demo twice changes nothing).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from govqms.core.activity import Actor, acting_as
from govqms.core.text import fold


@dataclass(frozen=True)
class DemoAgency:
    """An agency whose registers get years of history, and the three people who keep them."""

    tenant: Any
    drafter: Any
    reviewer: Any
    approver: Any


@dataclass
class DemoContext:
    today: dt.date
    #: the demo content file, by section
    content: dict
    #: the demo user of an e-mail local part (``thuky.yte``), or None
    user: Callable[[str], Any]
    #: the agency of a slug, or None
    tenant: Callable[[str], Any]
    #: the agencies with a history, each inside its scope (committed after each)
    histories: Callable[[], Iterator[DemoAgency]]
    #: runs a block inside one agency's scope, committed at the end
    in_agency: Callable[[Any], Any]
    notes: dict = field(default_factory=dict)

    def section(self, name: str):
        return self.content.get(name) or {}


@dataclass(frozen=True)
class Step:
    order: int
    name: str
    run: Callable[[DemoContext], int]


STEPS: list[Step] = []


def demo_step(order: int):
    """Register a step of the demo; steps run by *order* (documents before the audits that cite them,
    the agencies' records before the overseer's plan)."""

    def register(run: Callable[[DemoContext], int]):
        name = f"{run.__module__}.{run.__name__}"
        if all(step.name != name for step in STEPS):
            STEPS.append(Step(order, name, run))
        return run

    return register


def steps() -> list[Step]:
    return sorted(STEPS, key=lambda step: (step.order, step.name))


@contextmanager
def acting(user) -> Iterator[None]:
    """What follows is written to the activity log as done by *user*."""
    with acting_as(Actor(user.id, user.email)):
        yield


def noise(*parts) -> int:
    """A stable pseudo-random number 0–99 from the parts (the demo is the same on every machine)."""
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:4], 16) % 100


def month_day(year: int, value: str) -> dt.date:
    """``"07-25"`` of the content file in *year*."""
    month, day = (int(part) for part in value.split("-"))
    return dt.date(year, month, day)


def pdf(text: str) -> bytes:
    """A one-page PDF showing *text* (demo files only)."""
    line = fold(text).replace("\\", "").replace("(", "").replace(")", "")[:90]
    stream = f"BT /F1 12 Tf 56 780 Td ({line}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
