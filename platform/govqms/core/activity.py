"""The activity log: who changed what, when, in which tenant.

Writing it is not left to each service: a flush hook records every insert, update and
delete of a tenant-scoped or audited model, with the changed fields before and after.
Services add meaning with :func:`label` ("approve", "merge") and a note. Entries are
append-only: the ORM refuses to change them, and so does the database (trigger, and on
PostgreSQL the application role has no UPDATE or DELETE on the table).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import enum
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Iterator

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from govqms.core.db import AwareDateTime, Base, utcnow
from govqms.core.tenancy import TenantScoped, filter_like_tenant_data


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    label: str


SYSTEM = Actor(None, "system")
_actor: ContextVar[Actor] = ContextVar("govqms_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _actor.get()


@contextlib.contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def set_actor(actor: Actor):
    return _actor.set(actor)


def reset_actor(token) -> None:
    _actor.reset(token)


class ActivityEntry(Base):
    """One change to one record. Platform-level changes have no tenant."""

    __tablename__ = "activity_entry"
    __table_args__ = (
        Index("ix_activity_entry_tenant_at", "tenant_id", "at"),
        Index("ix_activity_entry_entity", "entity", "entity_id"),
        # No RETURNING: on PostgreSQL it would need the row to be readable, and a member
        # appending a platform entry (own password change) may not read platform entries.
        {"implicit_returning": False},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Nullable on purpose: jurisdictions, users and other platform records belong to no tenant.
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), default=utcnow, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(255), nullable=False)
    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    note: Mapped[str | None] = mapped_column(Text)


# Filtered like tenant data although not TenantScoped: platform entries have no tenant
# and are seen only by operators (the "all tenants" scope).
filter_like_tenant_data(ActivityEntry)


def label(obj: Any, action: str, note: str | None = None) -> None:
    """Name the next logged change of *obj* (e.g. ``approve``) instead of ``update``."""
    session = inspect(obj).session
    if session is None:
        raise ValueError("label() needs an object attached to a session")
    session.info.setdefault("activity_labels", {})[id(obj)] = (action, note)


def is_audited(obj: Any) -> bool:
    return isinstance(obj, TenantScoped) or getattr(obj, "__audited__", False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    return value


_IGNORED = {"created_at", "updated_at"}


def _changes(obj: Any, kind: str) -> dict[str, list[Any]]:
    state = inspect(obj)
    redacted = getattr(obj, "__activity_redact__", frozenset())
    ignored = _IGNORED | getattr(obj, "__activity_ignore__", frozenset())
    out: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in ignored:
            continue
        if kind == "update":
            history = state.attrs[key].history
            if not history.has_changes():
                continue
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if before == after:
                continue
        else:
            value = state.attrs[key].value
            if value is None:
                continue
            before, after = (None, value) if kind == "create" else (value, None)
        if key in redacted:
            before, after = ("***" if before is not None else None), ("***" if after is not None else None)
        out[key] = [_jsonable(before), _jsonable(after)]
    return out


def _tenant_of(obj: Any) -> int | None:
    tenant_of = getattr(obj, "activity_tenant_id", None)
    if tenant_of is not None:
        return tenant_of() if callable(tenant_of) else tenant_of
    return getattr(obj, "tenant_id", None)


def _entity_id(obj: Any) -> str:
    state = inspect(obj)
    return ",".join(str(v) for v in state.mapper.primary_key_from_instance(obj))


def _action_for(kind: str, changes: dict[str, list[Any]]) -> str:
    if kind == "update" and "archived_at" in changes:
        before, after = changes["archived_at"]
        if before is None and after is not None:
            return "archive"
        if before is not None and after is None:
            return "restore"
    return kind


def _refuse_activity_changes(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, ActivityEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise PermissionError("the activity log is append-only")


def _record(session: Session, flush_context) -> None:
    labels = session.info.get("activity_labels", {})
    actor = current_actor()
    now = utcnow()
    rows = []
    for kind, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            if not is_audited(obj) or isinstance(obj, ActivityEntry):
                continue
            if kind == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = _changes(obj, kind)
            if kind == "update" and not changes:
                continue
            action, note = labels.pop(id(obj), (_action_for(kind, changes), None))
            rows.append({
                "tenant_id": _tenant_of(obj),
                "at": now,
                "actor_id": actor.user_id,
                "actor_label": actor.label,
                "entity": type(obj).__tablename__,
                "entity_id": _entity_id(obj),
                "action": action,
                "changes": changes,
                "note": note,
            })
    if rows:
        session.connection().execute(ActivityEntry.__table__.insert(), rows)


#: The one kind of entry that records a read, not a change: an overseer opening an agency.
OVERSIGHT_VIEW = "oversight_view"


def record_oversight_view(session: Session, tenant_id: int, path: str) -> None:
    """Write into the agency's log that the current actor (an overseer) opened *path*.

    The overseer's scope is read-only, so this goes past the ORM's write guard on purpose;
    on PostgreSQL the activity log's insert policy admits exactly this kind of entry for a
    visible tenant, recorded as the overseer who acts (migration 0020)."""
    actor = current_actor()
    session.connection().execute(ActivityEntry.__table__.insert(), [{
        "tenant_id": tenant_id, "at": utcnow(), "actor_id": actor.user_id, "actor_label": actor.label,
        "entity": "tenant", "entity_id": str(tenant_id), "action": OVERSIGHT_VIEW, "changes": {},
        "note": path[:1000],
    }])


def install(session_class=Session) -> None:
    if getattr(session_class, "_govqms_activity_installed", False):
        return
    event.listen(session_class, "before_flush", _refuse_activity_changes)
    event.listen(session_class, "after_flush", _record)
    session_class._govqms_activity_installed = True


# --- database side of "append-only", used by migrations ------------------------------------

APPEND_ONLY_SQL = {
    "sqlite": [
        "create trigger activity_entry_no_update before update on activity_entry "
        "begin select raise(abort, 'activity_entry is append-only'); end",
        "create trigger activity_entry_no_delete before delete on activity_entry "
        "begin select raise(abort, 'activity_entry is append-only'); end",
    ],
    "postgresql": [
        "create function activity_entry_append_only() returns trigger language plpgsql as "
        "$$ begin raise exception 'activity_entry is append-only'; end $$",
        "create trigger activity_entry_append_only before update or delete on activity_entry "
        "for each row execute function activity_entry_append_only()",
    ],
}
DROP_APPEND_ONLY_SQL = {
    "sqlite": ["drop trigger if exists activity_entry_no_update", "drop trigger if exists activity_entry_no_delete"],
    "postgresql": ["drop trigger if exists activity_entry_append_only on activity_entry",
                   "drop function if exists activity_entry_append_only()"],
}


def make_append_only(op) -> None:
    """Migration helper. SQLite batch migrations that rebuild activity_entry must call it again."""
    for statement in APPEND_ONLY_SQL[op.get_bind().dialect.name]:
        op.execute(statement)


def drop_append_only(op) -> None:
    for statement in DROP_APPEND_ONLY_SQL[op.get_bind().dialect.name]:
        op.execute(statement)


def _action_labels():
    from flask_babel import lazy_gettext as _l

    return {
        "create": _l("created"), "update": _l("changed"), "delete": _l("deleted"), "archive": _l("archived"),
        "restore": _l("restored"), "submit": _l("sent for review"), "review": _l("reviewed"),
        "return": _l("returned to the drafter"), "approve": _l("approved"), "take_effect": _l("put in force"),
        "supersede": _l("superseded"), "obsolete": _l("made obsolete"), "merge": _l("merged"),
        "unmerge": _l("merge undone"), OVERSIGHT_VIEW: _l("opened by an overseer"),
    }


ACTION_LABELS = _action_labels()
