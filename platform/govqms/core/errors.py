"""The one family of "refused now": a step the records do not allow at this moment (a workflow step
out of order, a record read-only, a file or import that cannot be taken). The message says why, in
the user's language.

Services raise a subclass; a view may catch it to show the message on the page it re-renders. One
that does not is answered by the handler :func:`init_app` installs: nothing of the request is kept,
and the user goes back to the page they came from with the message (or, with no such page, gets a
page saying it, status 409). Never a 500.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request


class Refused(ValueError):
    """The step is not allowed now; ``str()`` is the message, in the user's language."""

    status = 409


def init_app(app) -> None:
    @app.errorhandler(Refused)
    def _refused(err: Refused):
        from govqms.extensions import db

        db.session.rollback()
        back = request.referrer
        if back and urlsplit(back).netloc == request.host and request.method != "GET":
            flash(str(err), "danger")
            return redirect(back, 303)
        return render_template("refused.html", message=str(err), back=back), err.status
