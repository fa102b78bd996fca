"""Calendar feeds: make, find, revoke; and the schedule written as iCalendar."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import url_for
from flask_babel import gettext as _
from icalendar import Calendar, Event as VEvent
from sqlalchemy import select

from govqms.calendars.models import CalendarFeed
from govqms.calendars.schedule import KIND_LABELS, Event
from govqms.core.db import utcnow
from govqms.core.permissions import Action
from govqms.extensions import db
from govqms.tenancy.models import Jurisdiction, Tenant


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed(user, label: str, *, tenant: Tenant | None = None,
                jurisdiction: Jurisdiction | None = None) -> tuple[CalendarFeed, str]:
    """A new subscription address; the token is returned once and only its hash is kept."""
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(token_hash=_hash(token), label=label, user_id=user.id,
                        tenant_id=tenant.id if tenant else None,
                        jurisdiction_id=jurisdiction.id if jurisdiction else None)
    db.session.add(feed)
    db.session.flush()
    return feed, token


def feeds_of(user, *, tenant: Tenant | None = None, jurisdiction: Jurisdiction | None = None) -> list[CalendarFeed]:
    query = select(CalendarFeed).where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
    if tenant is not None:
        query = query.where(CalendarFeed.tenant_id == tenant.id)
    else:
        query = query.where(CalendarFeed.jurisdiction_id == jurisdiction.id)
    return list(db.session.scalars(query.order_by(CalendarFeed.created_at)))


def live_feed(user, feed_id: int, *, tenant: Tenant | None = None,
              jurisdiction: Jurisdiction | None = None) -> CalendarFeed | None:
    """*user*'s feed *feed_id* of *tenant* (or of *jurisdiction*), not revoked; None otherwise."""
    query = select(CalendarFeed).where(CalendarFeed.id == feed_id, CalendarFeed.user_id == user.id,
                                       CalendarFeed.revoked_at.is_(None))
    if tenant is not None:
        return db.session.scalar(query.where(CalendarFeed.tenant_id == tenant.id))
    return db.session.scalar(query.where(CalendarFeed.jurisdiction_id == jurisdiction.id))


def revoke(feed: CalendarFeed) -> None:
    feed.revoked_at = feed.revoked_at or utcnow()
    db.session.flush()


def find_feed(token: str) -> CalendarFeed | None:
    """The live feed of *token*, if its owner may still see what it shows."""
    from govqms.accounts.models import User
    from govqms.tenancy.services import access_for, oversight_access

    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token),
                                                        CalendarFeed.revoked_at.is_(None)))
    if feed is None:
        return None
    user = db.session.get(User, feed.user_id)
    if user is None or not user.is_active:
        return None
    if feed.tenant_id is not None:
        allowed = access_for(user, db.session.get(Tenant, feed.tenant_id)).can(Action.WORKSPACE_VIEW)
    else:
        allowed = oversight_access(user, db.session.get(Jurisdiction, feed.jurisdiction_id)).can(
            Action.OVERSIGHT_VIEW)
    return feed if allowed else None


def jurisdiction_tenants(jurisdiction: Jurisdiction) -> list[Tenant]:
    """The active agencies below *jurisdiction*, by name: whose schedule its timeline shows."""
    from govqms.tenancy.services import active_below

    return active_below(jurisdiction)


def feed_tenants(feed: CalendarFeed) -> list[Tenant]:
    if feed.tenant_id is not None:
        return [db.session.get(Tenant, feed.tenant_id)]
    return jurisdiction_tenants(db.session.get(Jurisdiction, feed.jurisdiction_id))


def event_url(event: Event, tenants: dict[int, Tenant], external: bool = False) -> str | None:
    if event.link is None or event.tenant_id not in tenants:
        return None
    endpoint, values = event.link
    return url_for(endpoint, tenant_slug=tenants[event.tenant_id].slug, _external=external, **values)


def to_ical(name: str, events: list[Event], tenants: dict[int, Tenant], host: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//GovQMS//Schedule//VI")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Ho_Chi_Minh")
    stamp = utcnow()
    for event in events:
        tenant = tenants.get(event.tenant_id)
        entry = VEvent()
        entry.add("uid", f"{event.uid}@{host}")
        entry.add("dtstamp", stamp)
        entry.add("dtstart", event.start)
        entry.add("dtend", (event.end or event.start) + dt.timedelta(days=1))  # all-day: the day after
        label = KIND_LABELS.get(event.kind, event.kind)
        entry.add("summary", f"{label}: {event.title}" + (f" ({tenant.name})" if tenant else ""))
        entry.add("categories", [str(label)])
        url = event_url(event, tenants, external=True)
        if url:
            entry.add("url", url)
        description = [tenant.name if tenant else "", event.detail, url or ""]
        entry.add("description", "\n".join(part for part in description if part))
        entry.add("transp", "TRANSPARENT")
        calendar.add_component(entry)
    return calendar.to_ical()


def feed_name(feed: CalendarFeed) -> str:
    subject = (db.session.get(Tenant, feed.tenant_id) if feed.tenant_id
               else db.session.get(Jurisdiction, feed.jurisdiction_id))
    return _("GovQMS schedule: %(name)s", name=subject.name)
