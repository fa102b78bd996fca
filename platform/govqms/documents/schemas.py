from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from govqms.core.listing import ListArgs
from govqms.core.schemas import FormDate, InputSchema, TrimmedString, length
from govqms.documents.models import DocumentKind, DocumentStatus, ReviewOutcome

CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
                       error=_l("Use letters, digits, dot, dash, slash or underscore, "
                                "starting with a letter or digit."))


class DocumentSchema(InputSchema):
    code = TrimmedString(required=True, validate=[length(32), CODE])
    title = TrimmedString(required=True, validate=length(500))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in DocumentKind],
                                                                error=_l("Choose a kind from the list.")))
    owner_unit_id = fields.Integer(load_default=None)
    review_interval_months = fields.Integer(
        load_default=12, validate=validate.Range(min=1, max=60, error=_l("Between 1 and 60 months.")))


class DraftSchema(InputSchema):
    change_summary = TrimmedString(load_default="", validate=validate.Length(max=5000))
    effective_on = FormDate(load_default=None)


class ApproveSchema(InputSchema):
    effective_on = FormDate(required=True)


class CommentSchema(InputSchema):
    comment = TrimmedString(load_default="", validate=validate.Length(max=5000))


class ReturnSchema(InputSchema):
    comment = TrimmedString(required=True, validate=length(5000))


class PeriodicReviewSchema(InputSchema):
    outcome = fields.String(required=True, validate=validate.OneOf([o.value for o in ReviewOutcome],
                                                                   error=_l("Choose an outcome.")))
    reviewed_on = FormDate(required=True)
    note = TrimmedString(load_default="", validate=validate.Length(max=5000))


class ObsoleteSchema(InputSchema):
    obsolete_on = FormDate(required=True)
    reason = TrimmedString(load_default="", validate=validate.Length(max=2000))


class DocumentFilter(ListArgs):
    """The register's filters, as its query string (and its export form) give them."""

    q = TrimmedString(load_default="", validate=validate.Length(max=200))
    kind = fields.String(load_default=None, validate=validate.OneOf([k.value for k in DocumentKind]))
    unit_id = fields.Integer(load_default=None, data_key="unit", validate=validate.Range(min=1, max=2**31 - 1))
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in DocumentStatus]))
    review_overdue = fields.Boolean(load_default=False, data_key="overdue")
    sort = fields.String(load_default="code", validate=validate.OneOf(("code", "title", "effective", "review")))
