"""The one family of "refused now": a step the records do not allow at this moment (a workflow step
out of order, a record read-only, a file or import that cannot be taken). The message says why, in
the user's language.

Services raise a subclass; a view may catch it to show the message on the page it re-renders. One
that does not is answered by the handler :func:`init_app` installs: nothing of the request is kept,
and the user goes back to the page they came from with the message (or, with no such page, gets a
page saying it, status 409). Never a 500.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request
from flask_babel import gettext as _

log = logging.getLogger(__name__)


class Refused(ValueError):
    """The step is not allowed now; ``str()`` is the message, in the user's language."""

    status = 409


def _rollback() -> None:
    """First of all: nothing of the request is kept (and the session is usable again, for the
    language of the message, say)."""
    from govqms.extensions import db

    db.session.rollback()


def _answer(message: str, status: int):
    back = request.referrer
    if back and urlsplit(back).netloc == request.host and request.method != "GET":
        flash(message, "danger")
        return redirect(back, 303)
    return render_template("refused.html", message=message, back=back), status


def _database_unavailable(app, err: Exception):
    """The database cannot be reached (restarting, the network): a page that needs nothing from it (not
    even the user's language), status 503, saying what the user can do."""
    from flask_babel import force_locale

    log.error("%s %s: the database is unavailable: %s", request.method, request.path,
              str(err).splitlines()[0] if str(err) else type(err).__name__)
    try:
        _rollback()
    except Exception:  # noqa: BLE001 - the connection is gone: nothing to roll back
        pass
    with force_locale(app.config.get("BABEL_DEFAULT_LOCALE", "vi")):
        page = render_template("unavailable.html", lang=app.config.get("BABEL_DEFAULT_LOCALE", "vi"),
                               title=_("The service is briefly unavailable"), back=_("Back"),
                               message=_("The database could not be reached, so this request may not have been "
                                         "saved. Wait a moment, check, and try again."))
    return page, 503, {"Retry-After": "30"}


def init_app(app) -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError
    from sqlalchemy.orm.exc import StaleDataError

    @app.errorhandler(Refused)
    def _refused(err: Refused):
        _rollback()
        return _answer(str(err), err.status)

    @app.errorhandler(StaleDataError)
    def _saved_meanwhile(err: StaleDataError):
        _rollback()
        # two saves of one record at the same instant: the version counter let the first through
        return _answer(_("Someone saved this record at the same moment, so your changes were not saved. "
                         "Open it again to see the current version."), 409)

    @app.errorhandler(OperationalError)
    def _busy(err: OperationalError):
        # SQLite (the embedded default) refuses a second writer at the same instant instead of waiting
        # when both had read first; anything else is a real failure
        if "database is locked" not in str(err.orig):
            return _database_unavailable(app, err)
        _rollback()
        log.warning("%s %s: the database was busy with another write", request.method, request.path)
        return _answer(_("Another change was being saved at the same instant, so yours was not saved. "
                         "Try again."), 409)

    @app.errorhandler(IntegrityError)
    def _duplicate(err: IntegrityError):
        _rollback()
        # the same create sent twice at once (a double click, two tabs): the database kept one
        log.warning("%s %s refused by a constraint: %s", request.method, request.path,
                    str(err.orig).splitlines()[0] if err.orig else err)
        return _answer(_("This was just saved (perhaps by a second click or another tab), so it was not "
                         "saved twice. Check the list before trying again."), 409)
