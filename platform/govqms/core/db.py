"""Declarative base with a naming convention, and small column helpers."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import ARRAY, Boolean, DateTime, Integer, MetaData, any_, bindparam, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import TypeDecorator

from govqms.core.text import sort_key

# Every constraint gets a stable name, so autogenerate and batch mode on SQLite see changes.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Versioned:
    """An editable record. Each update counts its ``version`` (SQLAlchemy's version counter: an UPDATE of
    a version another session has already replaced matches no row and fails, instead of overwriting).
    Its edit form carries the version it showed, and :mod:`govqms.core.conflicts` refuses the save of a
    form opened before someone else's change."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.version}


def save_record(record, values: Mapping[str, Any]):
    """Write *values* (loaded by the form's schema) onto *record*, new or not, and flush it: the one way a
    service saves a record's fields (the activity log sees the flush)."""
    from govqms.extensions import db

    for key, value in values.items():
        setattr(record, key, value)
    db.session.add(record)
    db.session.flush()
    return record


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class AwareDateTime(TypeDecorator):
    """A timezone-aware datetime that reads back aware on SQLite too (stored as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use govqms.core.db.utcnow()")
        if value is not None:
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        AwareDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


#: The collation that orders names the Vietnamese way in SQL: ICU's ``vi-VN`` on PostgreSQL (created by
#: migration 0023), :func:`govqms.core.text.sort_key` on SQLite (registered on every connection, below).
VI_COLLATION = "vi"


def vi_order(column):
    """*column* (a name or a title) ordered the Vietnamese way: ``order_by(vi_order(Tenant.name))``.
    PostgreSQL orders a ``SELECT DISTINCT`` only by expressions it selects: group by the key instead
    (``group_by(User.id)``)."""
    return column.collate(VI_COLLATION)


def _vi_compare(left: str, right: str) -> int:
    left_key, right_key = sort_key(left), sort_key(right)
    return (left_key > right_key) - (left_key < right_key)


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, connection_record):
    if _is_sqlite(dbapi_connection):
        # Foreign keys are off by default; and pysqlite's own transaction handling breaks
        # savepoints, so it is switched off and SQLAlchemy emits BEGIN itself (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
        dbapi_connection.create_collation(VI_COLLATION, _vi_compare)


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")


class in_ids(ColumnElement):
    """``column IN ids`` for a set of ids of any size: one array parameter on PostgreSQL
    (``column = ANY(:ids)``), so a statement over 5,000 agencies is planned like one over 5, and
    the usual expanding list elsewhere."""

    type = Boolean()
    inherit_cache = False  # the ids are values, not structure: such statements are compiled anew

    def __init__(self, column, ids):
        self.column, self.ids = column, sorted(set(ids))


@compiles(in_ids)
def _in_ids_default(element: in_ids, compiler, **kw) -> str:
    return compiler.process(element.column.in_(element.ids), **kw)


@compiles(in_ids, "postgresql")
def _in_ids_postgresql(element: in_ids, compiler, **kw) -> str:
    return compiler.process(element.column == any_(bindparam(None, element.ids, type_=ARRAY(Integer))), **kw)
