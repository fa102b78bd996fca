from __future__ import annotations

from marshmallow import fields, validate

from govqms.core.schemas import InputSchema, TrimmedString, length
from govqms.reports.documents import INSPECTION_KINDS, YEAR_KINDS

LONG = 20_000


class ProfileSchema(InputSchema):
    """Who issues and signs (every field optional: an empty one takes the default shown beside it)."""

    authority = TrimmedString(load_default="", validate=length(255, 0))
    name = TrimmedString(load_default="", validate=length(255, 0))
    title_name = TrimmedString(load_default="", validate=length(255, 0))
    symbol = TrimmedString(load_default="", validate=length(40, 0))
    unit_symbol = TrimmedString(load_default="", validate=length(40, 0))
    unit_name = TrimmedString(load_default="", validate=length(255, 0))
    place = TrimmedString(load_default="", validate=length(100, 0))
    area = TrimmedString(load_default="", validate=length(255, 0))
    superior = TrimmedString(load_default="", validate=length(255, 0))
    signer_capacity = TrimmedString(load_default="", validate=length(100, 0))
    signer_title = TrimmedString(load_default="", validate=length(100, 0))
    signer_name = TrimmedString(load_default="", validate=length(255, 0))
    decider = TrimmedString(load_default="", validate=length(255, 0))


class ReportTextSchema(InputSchema):
    number = TrimmedString(load_default="", validate=length(40, 0))
    direction = TrimmedString(load_default="", validate=length(LONG, 0))
    assessment = TrimmedString(load_default="", validate=length(LONG, 0))
    difficulties = TrimmedString(load_default="", validate=length(LONG, 0))
    recommendations = TrimmedString(load_default="", validate=length(LONG, 0))


class YearDocumentSchema(InputSchema):
    kind = fields.String(required=True, validate=validate.OneOf(YEAR_KINDS))
    fmt = fields.String(required=True, validate=validate.OneOf(["docx", "xlsx"]))
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))


class InspectionDocumentSchema(InputSchema):
    kind = fields.String(required=True, validate=validate.OneOf(INSPECTION_KINDS))
