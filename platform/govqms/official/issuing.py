"""Who issues a document and what every document shares: the issuing body and signer of a
jurisdiction (its own details, each empty one from ``forms/profiles.yaml``), the number, place and
date, the template in use, and the documents agencies issue themselves.

Documents are in Vietnamese, the language of the administration, whatever the language of the
interface: labels that exist in the interface are taken from the catalogue in Vietnamese, the rest of
the wording is in the forms.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from govqms.extensions import db
from govqms.official import render
from govqms.official.models import PROFILE_FIELDS, DocumentTemplate, OfficialProfile
from govqms.tenancy.models import Jurisdiction, Tenant

LANGUAGE = "vi"
#: The kinds an agency issues itself (a jurisdiction may replace their templates for all its agencies).
AGENCY_KINDS = ("audit-report", "review-minutes")
FILE_NAMES = {"yearly": "bao-cao-nam", "inspection-summary": "tong-hop-kiem-tra",
              "inspection-plan": "ke-hoach-kiem-tra", "inspection-decision": "quyet-dinh-kiem-tra",
              "inspection-minutes": "bien-ban-kiem-tra", "report-request": "de-nghi-bao-cao",
              "audit-report": "bao-cao-danh-gia-noi-bo", "review-minutes": "bien-ban-xem-xet-lanh-dao"}


@dataclass(frozen=True)
class Produced:
    data: bytes
    file_name: str
    mimetype: str


# --- who issues -------------------------------------------------------------------------------------

def default_profile(jurisdiction: Jurisdiction) -> dict[str, str]:
    """The issuing details of a jurisdiction nobody has set yet, from ``forms/profiles.yaml``."""
    defaults = render.profile_defaults()
    place = jurisdiction.name
    for prefix in defaults.get("prefixes", []):
        if place.startswith(prefix + " "):
            place = place[len(prefix) + 1:]
            break
    values = defaults.get(jurisdiction.level, defaults["province"])
    context = {"name": jurisdiction.name, "place": place}
    profile = {field: render.text(str(values.get(field, "")), context) for field in PROFILE_FIELDS}
    profile["signer_name"] = ""
    return profile


def profile_of(jurisdiction: Jurisdiction) -> OfficialProfile | None:
    return db.session.scalar(select(OfficialProfile).where(OfficialProfile.jurisdiction_id == jurisdiction.id))


def issuer(jurisdiction: Jurisdiction) -> dict[str, str]:
    """The issuing details: the jurisdiction's own, each empty one from the defaults."""
    values = default_profile(jurisdiction)
    saved = profile_of(jurisdiction)
    if saved is not None:
        values.update({field: getattr(saved, field) for field in PROFILE_FIELDS if getattr(saved, field)})
    values["archive"] = f", {values['unit_symbol']}" if values.get("unit_symbol") else ""
    return values


def base_context(jurisdiction: Jurisdiction, kind: str, on: dt.date, number: str = "") -> dict:
    """The issuer, the number, the place-and-date line and the signer of a jurisdiction's document."""
    who = issuer(jurisdiction)
    spec = render.form(kind)
    if "/" in number:  # typed whole ("12/QĐ-SKHCN"): the form adds the symbol itself
        number = number.split("/", 1)[0]
    return {"issuer": who, "jurisdiction": jurisdiction.name, "date": render.date_parts(on),
            "number": number.strip() or "\u00a0" * 6,
            "signer": {"capacity": who["signer_capacity"], "title": who["signer_title"], "name": who["signer_name"]},
            "empty": spec.get("empty", "")}


def paragraphs_of(text: str, empty: str) -> list[str]:
    """A narrative written in the app: a paragraph per line; a line to fill in when nothing was written."""
    found = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return found or [empty]


# --- templates ------------------------------------------------------------------------------------------

def template_in_use(jurisdiction_id: int, kind: str) -> DocumentTemplate | None:
    return db.session.scalar(select(DocumentTemplate).where(
        DocumentTemplate.jurisdiction_id == jurisdiction_id, DocumentTemplate.kind == kind,
        DocumentTemplate.archived_at.is_(None)).order_by(DocumentTemplate.id.desc()).limit(1))


def template_bytes(jurisdiction_id: int, kind: str) -> bytes:
    replaced = template_in_use(jurisdiction_id, kind)
    return replaced.data if replaced is not None else render.default_template(kind)


# --- an agency's own documents ----------------------------------------------------------------------

def agency_context(tenant: Tenant, kind: str, on: dt.date) -> dict:
    """What every document an agency issues says of its issuer: the agency, under its jurisdiction's
    governing body, at its jurisdiction's place. The agency's packages add the rest (an audit's
    findings, a review's decisions) and call :func:`produce_for_agency`."""
    over = issuer(tenant.jurisdiction)
    context = base_context(tenant.jurisdiction, kind, on)
    context["issuer"] = {**over, "name": tenant.name.upper(), "title_name": tenant.name}
    context["agency"] = {"name": tenant.name}
    return context


def produce_for_agency(tenant: Tenant, kind: str, record_id: int, context: dict) -> Produced:
    """An agency's document of *kind* rendered with *context*, with its jurisdiction's template."""
    if kind not in AGENCY_KINDS:
        raise KeyError(kind)
    data = render.render_docx(template_bytes(tenant.jurisdiction_id, kind), context)
    return Produced(data, f"{FILE_NAMES[kind]}-{context['year']}-{record_id}.docx", render.DOCX)
