"""What jobs need of accounts: who a job's user is (for the activity log), and accounts' share of the
nightly housekeeping (expired invitation links, old sign-in attempts)."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import delete, select

from govqms.accounts.models import Invitation, LoginAttempt, User
from govqms.core.activity import Actor
from govqms.extensions import db
from govqms.jobs.services import actor_of_user, cleanup_step

#: Sign-in attempts are kept this long (the throttle reads a few minutes of them; the rest is audit).
KEEP_ATTEMPTS = dt.timedelta(days=90)


@actor_of_user
def actor(user_id: int) -> Actor | None:
    user = db.session.get(User, user_id)
    return Actor(user.id, user.email) if user else None


@cleanup_step
def expired_invitations(now: dt.datetime) -> str:
    # Deleted through the ORM, one by one, so each removal is in the activity log.
    invitations = db.session.scalars(select(Invitation).where(Invitation.used_at.is_(None),
                                                              Invitation.expires_at < now)).all()
    for invitation in invitations:
        db.session.delete(invitation)
    return _("%(n)s expired invitation(s) removed", n=len(invitations))


@cleanup_step
def ended_sessions(now: dt.datetime) -> str:
    from govqms.accounts.sessions import forget_expired

    return _("%(n)s ended session(s) removed", n=forget_expired(now))


@cleanup_step
def old_sign_in_attempts(now: dt.datetime) -> str:
    removed = db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP_ATTEMPTS)).rowcount
    return _("%(n)s sign-in record(s) removed", n=removed or 0)
