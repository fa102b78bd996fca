"""Saving who issues a jurisdiction's documents, and replacing a template."""
from __future__ import annotations

from sqlalchemy import select

from govqms.core.db import utcnow
from govqms.core.errors import Refused
from govqms.core.uploads import CheckedFile
from govqms.extensions import db
from govqms.official import render
from govqms.official.models import PROFILE_FIELDS, DocumentTemplate, OfficialProfile
from govqms.tenancy.models import Jurisdiction


class TemplateRefused(Refused):
    """The template was not kept; the message says why."""


def save_profile(jurisdiction: Jurisdiction, data: dict) -> OfficialProfile:
    from govqms.official.issuing import profile_of

    profile = profile_of(jurisdiction)
    if profile is None:
        profile = OfficialProfile(jurisdiction_id=jurisdiction.id)
        db.session.add(profile)
    for field in PROFILE_FIELDS:
        setattr(profile, field, data.get(field, ""))
    db.session.flush()
    return profile


def replace_template(jurisdiction: Jurisdiction, kind: str, upload: CheckedFile, *, user_id: int | None,
                     sample: dict | None) -> DocumentTemplate:
    """Keep *upload* as the jurisdiction's template of *kind*, after rendering it once with *sample*,
    a real context (the jurisdiction's figures): a template that cannot render (a tag left open, an
    unknown filter) is refused, and the one in use stays."""
    if kind not in render.KINDS:
        raise TemplateRefused(kind)
    try:
        render.render_docx(upload.data, sample if sample is not None else {})
    except render.TemplateBroken as broken:
        from flask_babel import gettext as _

        raise TemplateRefused(_("The template cannot be filled in: %(problem)s. The template in use is unchanged.",
                                problem=str(broken))) from broken
    archive_templates(jurisdiction, kind)
    template = DocumentTemplate(jurisdiction_id=jurisdiction.id, kind=kind, file_name=upload.filename,
                                data=upload.data, uploaded_by_id=user_id)
    db.session.add(template)
    db.session.flush()
    return template


def archive_templates(jurisdiction: Jurisdiction, kind: str) -> int:
    """Go back to the default template of *kind* (the replaced ones are archived, not deleted)."""
    replaced = list(db.session.scalars(select(DocumentTemplate).where(
        DocumentTemplate.jurisdiction_id == jurisdiction.id, DocumentTemplate.kind == kind,
        DocumentTemplate.archived_at.is_(None))))
    for template in replaced:
        template.archived_at = utcnow()
    db.session.flush()
    return len(replaced)


def templates_in_use(jurisdiction: Jurisdiction) -> dict[str, DocumentTemplate]:
    """The jurisdiction's replaced templates by kind, in one query."""
    found = {}
    for template in db.session.scalars(select(DocumentTemplate).where(
            DocumentTemplate.jurisdiction_id == jurisdiction.id, DocumentTemplate.archived_at.is_(None))
            .order_by(DocumentTemplate.id)):
        found[template.kind] = template
    return found
