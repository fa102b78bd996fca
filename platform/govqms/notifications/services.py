"""Telling people: the inbox, and email now or in a daily digest.

``notify`` records one notification per user, event and step, and does nothing for a triple it
has already recorded; that is what keeps a retried job from telling anyone twice. Email follows
the same rule from the other side: a sender claims a notification (pending → sending) in its
own committed transaction before it talks to the SMTP server, so two senders never send the same
one at once. A claim whose sender died (the worker killed mid-send) is taken as interrupted after
STALE_CLAIM and sent again, a few times at most, with the same Message-ID: delivery is at least once,
and a duplicate is recognisable. Each notification records the job that created it and the job whose
attempt emailed it, so a job's summary counts what all its attempts did.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Iterable

from flask import current_app, url_for
from flask_babel import force_locale, gettext as _
from sqlalchemy import func, select, update

from govqms.accounts.models import User
from govqms.core.db import utcnow
from govqms.core.listing import page_of
from govqms.core.mail import mail_configured, message_id, send_mail
from govqms.extensions import db
from govqms.jobs.services import current_job_id
from govqms.notifications.messages import render
from govqms.notifications.models import DeliveryMode, EmailState, Notification

log = logging.getLogger(__name__)

#: A claim older than this belongs to a sender that died (a send takes seconds and SMTP gives up after
#: 30 s): its email goes out again, with the same Message-ID.
STALE_CLAIM = dt.timedelta(minutes=15)
MAX_EMAIL_ATTEMPTS = 3
INSERT_CHUNK = 500


def _insert_ignoring_duplicates(rows: list[dict]) -> int:
    if not rows:
        return 0
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    created = 0
    for start in range(0, len(rows), INSERT_CHUNK):  # within the databases' limits on parameters
        statement = insert(Notification).values(rows[start:start + INSERT_CHUNK]).on_conflict_do_nothing(
            index_elements=["user_id", "event_key", "step"]).returning(Notification.id)
        created += len(db.session.execute(statement).all())
    return created


def notify(user_ids: Iterable[int], *, kind: str, event_key: str, step: str = "event", params: dict | None = None,
           due_on: dt.date | None = None, link: tuple[str, dict] | None = None) -> int:
    """Tell each user once about (event_key, step); returns how many were told now."""
    return notify_many([(user_id, kind, event_key, step, params or {}, due_on, link) for user_id in set(user_ids)])


def notify_many(items: Iterable[tuple]) -> int:
    """Many notifications in one statement: (user_id, kind, event_key, step, params, due_on, link)."""
    email = EmailState.PENDING if mail_configured() else EmailState.NONE
    now = utcnow()
    rows = [{"user_id": user_id, "kind": kind, "event_key": key[:200], "step": step, "params": params,
             "due_on": due_on, "link_endpoint": link[0] if link else None, "link_args": link[1] if link else {},
             "created_at": now, "email_state": email, "email_attempts": 0, "created_by_job": current_job_id()}
            for user_id, kind, key, step, params, due_on, link in items]
    return _insert_ignoring_duplicates(rows)


def text_of(notification: Notification) -> str:
    return render(notification.kind, notification.step, notification.params, notification.due_on)


# --- the inbox -----------------------------------------------------------------------------------

def inbox_query(user: User, unread_only: bool = False):
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query.order_by(Notification.created_at.desc(), Notification.id.desc())


def inbox_page(user: User, args: dict, per_page: int):
    """A page of *user*'s notifications, newest first (only the unread ones if ``args["unread"]``)."""
    return page_of(inbox_query(user, args["unread"]), args, per_page=per_page)


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def own_notification(user: User, notification_id: int) -> Notification | None:
    """The user's notification, or None: nobody reads another's inbox, operators included."""
    return db.session.scalar(select(Notification).where(Notification.id == notification_id,
                                                        Notification.user_id == user.id))


def mark_read(user: User, notification_ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all of them when no ids are given)."""
    statement = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_ids is not None:
        statement = statement.where(Notification.id.in_(notification_ids))
    return db.session.execute(statement.values(read_at=utcnow())).rowcount or 0


def set_mode(user: User, mode: DeliveryMode) -> None:
    user.notify_mode = DeliveryMode(mode).value


# --- email ---------------------------------------------------------------------------------------

def absolute_link(endpoint: str | None, args: dict) -> str:
    base = current_app.config["BASE_URL"]
    if not endpoint:
        return base + "/"
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **args)


def _claim(ids: list[int]) -> list[int]:
    """Take pending notifications for sending; only the ones this call took are returned."""
    claimed = list(db.session.scalars(
        update(Notification).where(Notification.id.in_(ids), Notification.email_state == EmailState.PENDING)
        .values(email_state=EmailState.SENDING, email_attempts=Notification.email_attempts + 1,
                emailed_at=utcnow())
        .returning(Notification.id)))
    db.session.commit()
    return claimed


def _finish(ids: list[int], error: Exception | None) -> None:
    if error is None:
        values = {"email_state": EmailState.SENT, "emailed_at": utcnow(), "email_error": None,
                  "emailed_by_job": current_job_id()}
        db.session.execute(update(Notification).where(Notification.id.in_(ids)).values(**values))
    else:
        message = f"{type(error).__name__}: {error}"[:2000]
        # A refused send was not delivered: it may be tried again, a few times.
        for state, condition in ((EmailState.FAILED, Notification.email_attempts >= MAX_EMAIL_ATTEMPTS),
                                 (EmailState.PENDING, Notification.email_attempts < MAX_EMAIL_ATTEMPTS)):
            db.session.execute(update(Notification).where(Notification.id.in_(ids), condition)
                               .values(email_state=state, email_error=message))
    db.session.commit()


def _send(user: User, notifications: list[Notification]) -> Exception | None:
    """One message to *user* with *notifications*; its Message-ID is made of their ids, the same when
    an interrupted send is tried again."""
    with force_locale(user.locale):
        if len(notifications) == 1:
            only = notifications[0]
            subject = _("GovQMS: %(text)s", text=text_of(only))
            body = _("Hello %(name)s,\n\n%(text)s\n\n%(link)s\n", name=user.name, text=text_of(only),
                     link=absolute_link(only.link_endpoint, only.link_args))
        else:
            subject = _("GovQMS: %(n)s new notification(s)", n=len(notifications))
            lines = [f"- {text_of(n)}\n  {absolute_link(n.link_endpoint, n.link_args)}" for n in notifications]
            body = _("Hello %(name)s,\n\nWhat happened since your last digest:\n\n%(lines)s\n", name=user.name,
                     lines="\n".join(lines))
        body += "\n" + _("Choose immediate email or a daily digest on %(link)s",
                         link=absolute_link("notifications.settings", {}))
    try:
        send_mail(user.email, subject[:250].replace("\n", " "), body,
                  message_id=message_id("notification", *(n.id for n in notifications)))
    except Exception as err:  # the SMTP server refused or is down: recorded on the notifications
        log.warning("mail to %s failed: %s", user.email, err)
        return err
    return None


def _pending(mode: DeliveryMode) -> dict[int, list[int]]:
    rows = db.session.execute(
        select(Notification.user_id, Notification.id).join(User, User.id == Notification.user_id)
        .where(Notification.email_state == EmailState.PENDING, User.notify_mode == mode, User.active.is_(True))
        .order_by(Notification.user_id, Notification.id)).all()
    by_user: dict[int, list[int]] = {}
    for user_id, notification_id in rows:
        by_user.setdefault(user_id, []).append(notification_id)
    return by_user


def send_pending(mode: DeliveryMode, handle=None) -> int:
    """Email what is pending for users of *mode*: one message per notification (immediate) or one
    per user (digest). Returns the number of messages sent."""
    if not mail_configured():
        return 0
    retry_interrupted()
    by_user = _pending(mode)
    sent = 0
    for done, (user_id, ids) in enumerate(by_user.items()):
        user = db.session.get(User, user_id)
        batches = [[i] for i in ids] if mode == DeliveryMode.IMMEDIATE else [ids]
        for batch in batches:
            claimed = _claim(batch)
            if not claimed:
                continue  # another sender has them
            notifications = list(db.session.scalars(select(Notification).where(Notification.id.in_(claimed))
                                                    .order_by(Notification.id)))
            error = _send(user, notifications)
            _finish(claimed, error)
            sent += error is None
        if handle is not None:
            handle.progress(done + 1, len(by_user))
    return sent


def deliver_soon():
    """With a write that told people something: email those who want it at once, in a job recorded in
    the same transaction (committed with it). Returns the job, or None when there is nothing to send."""
    if mail_configured() and db.session.scalar(select(Notification.id).where(
            Notification.email_state == EmailState.PENDING).limit(1)) is not None:
        from govqms.jobs.services import enqueue

        return enqueue("notifications.deliver", tenant_id=None, user_id=None)
    return None


def retry_interrupted(now: dt.datetime | None = None) -> tuple[int, int]:
    """Claims whose sender died are taken back: sent again (same Message-ID) while attempts remain,
    otherwise marked failed for the operators. Returns (to send again, failed)."""
    cutoff = (now or utcnow()) - STALE_CLAIM
    stale = (Notification.email_state == EmailState.SENDING, Notification.emailed_at < cutoff)
    again = db.session.execute(
        update(Notification).where(*stale, Notification.email_attempts < MAX_EMAIL_ATTEMPTS)
        .values(email_state=EmailState.PENDING, email_error="interrupted while sending; sent again")).rowcount
    failed = db.session.execute(
        update(Notification).where(*stale, Notification.email_attempts >= MAX_EMAIL_ATTEMPTS)
        .values(email_state=EmailState.FAILED,
                email_error=f"interrupted while sending, {MAX_EMAIL_ATTEMPTS} times; not sent again")).rowcount
    db.session.commit()
    return again or 0, failed or 0


def created_by(job_id: str) -> int:
    """Notifications the job recorded, over all its attempts."""
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.created_by_job == job_id)) or 0


def emails_sent_by(job_id: str) -> int:
    """Messages the job's attempts sent: one per notification, or one per user for a digest (the
    notifications of one message are marked sent together, at one instant)."""
    return db.session.scalar(
        select(func.count(func.distinct(Notification.emailed_at)))
        .where(Notification.emailed_by_job == job_id, Notification.email_state == EmailState.SENT)) or 0
