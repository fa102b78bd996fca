"""The comparison's filters, as its query string, its export form and its export job give them."""
from marshmallow import fields, validate

from govqms.core.listing import ListArgs
from govqms.oversight.comparison import LEVEL_ORDER, RULE_KEYS, SORTS


class ComparisonFilter(ListArgs):
    kind = fields.String(load_default=None, validate=validate.Length(max=64))
    level = fields.String(load_default=None, validate=validate.OneOf(tuple(LEVEL_ORDER)))
    edition = fields.String(load_default=None, validate=validate.Length(max=32))
    #: agencies overdue on this check
    overdue = fields.String(load_default=None, validate=validate.OneOf(sorted(RULE_KEYS)))
    sort = fields.String(load_default=None, validate=validate.OneOf(tuple(SORTS)))
