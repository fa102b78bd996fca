from __future__ import annotations

from govqms.core.schemas import InputSchema, TrimmedString, length


class FeedSchema(InputSchema):
    label = TrimmedString(required=True, validate=length(100))
