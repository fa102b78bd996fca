"""What every view shares: the permission check, the URL converter of ids, the year and page
asked for, and a page of a list already in memory. The blueprint factories that put a view in its
agency's or jurisdiction's scope live with tenancy (``govqms.tenancy.blueprints``)."""
from __future__ import annotations

from functools import wraps

from flask import abort, g, request
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from govqms.core.permissions import Action
from govqms.extensions import db


class IdConverter(IntegerConverter):
    """``<int:…>`` in a URL: a record id, so at most what an INTEGER column holds; a larger number
    is a page not found, not a database error."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


def record_or_404(model, record_id: int, *options):
    """The one loader of workspace views: the record of the agency the request works in. Another
    agency's id, a merged predecessor's record, or an id no column holds: 404."""
    if not isinstance(record_id, int) or not 0 < record_id < 2**31:
        abort(404)
    found = db.session.scalar(select(model).where(model.id == record_id, model.tenant_id == g.tenant.id)
                              .options(*options))
    if found is None:
        abort(404)
    return found


def requires(action: Action):
    """Refuse the view with 403 unless the current access allows *action*."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            access = getattr(g, "access", None)
            if access is None or not access.can(action):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def year_arg(source=None) -> int:
    """The ``year`` asked for (query string, or *source* such as a form), this year by default."""
    from govqms.core.clock import today

    raw = (source if source is not None else request.args).get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else today().year


def jurisdiction_record_or_404(model, record_id: int, *options):
    """The one loader of oversight views: the record of the jurisdiction the request works in (a data
    call it sent, say). Another jurisdiction's id, or an id no column holds: 404."""
    if not isinstance(record_id, int) or not 0 < record_id < 2**31:
        abort(404)
    found = db.session.scalar(select(model).where(model.id == record_id,
                                                  model.jurisdiction_id == g.jurisdiction.id).options(*options))
    if found is None:
        abort(404)
    return found
