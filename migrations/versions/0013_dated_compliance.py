"""compliance from dated records: agencies' establishment, reviews held, declarations' publication
days, certificates ended; the operator-typed ISO edition goes (it comes from the declaration)

Revision ID: 0013_dated_compliance
Revises: 0012_notifications
Create Date: 2026-11-29 23:30:00

What the old schema did not date is carried forward as follows (README, "How status is computed"):
- a review whose meeting day has passed was held that day; a later one stays planned;
- a declaration marked posted or published was so on its decision day;
- a withdrawn certificate ended on its withdrawal day, as withdrawn;
- an action marked done without a day, or a nonconformity closed without one, takes the day of the
  activity-log entry that recorded the change (the record's last update when the log has none).
An agency's establishment day cannot be recovered: it stays empty (judged as always existing) until
a manifest or the back office sets it.
"""
from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013_dated_compliance'
down_revision = '0012_notifications'
branch_labels = None
depends_on = None


def _day(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone(dt.timedelta(hours=7))).date()
    return value


def _logged_day(conn, entity: str, record_id: int, field: str, fallback) -> dt.date | None:
    """The day the activity log recorded a change of *field* on the record, or *fallback*."""
    for at, changes in conn.execute(sa.text(
            "select at, changes from activity_entry where entity = :entity and entity_id = :id order by at desc"),
            {"entity": entity, "id": str(record_id)}):
        if isinstance(changes, str):
            changes = json.loads(changes)
        if field in (changes or {}):
            return _day(at)
    return _day(fallback)


def upgrade():
    conn = op.get_bind()
    op.add_column('tenant', sa.Column('established_on', sa.Date(), nullable=True))
    op.add_column('management_review', sa.Column('held_on', sa.Date(), nullable=True))
    op.add_column('declaration', sa.Column('posted_on', sa.Date(), nullable=True))
    op.add_column('declaration', sa.Column('published_on', sa.Date(), nullable=True))
    op.add_column('certificate', sa.Column('ended_on', sa.Date(), nullable=True))
    op.add_column('certificate', sa.Column('end_reason', sa.String(length=16), nullable=True))

    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    conn.execute(sa.text("update management_review set held_on = meeting_on where meeting_on <= :today"),
                 {"today": today})
    conn.execute(sa.text("update declaration set posted_on = decided_on where posted_at_office = :yes"),
                 {"yes": True})
    conn.execute(sa.text("update declaration set published_on = decided_on where published_online = :yes"),
                 {"yes": True})
    conn.execute(sa.text("update certificate set ended_on = withdrawn_on, end_reason = 'withdrawn' "
                         "where withdrawn_on is not null"))
    for action_id, updated in conn.execute(sa.text(
            "select id, updated_at from action where status = 'done' and done_on is null")).all():
        conn.execute(sa.text("update action set done_on = :day where id = :id"),
                     {"day": _logged_day(conn, "action", action_id, "status", updated), "id": action_id})
    for nc_id, updated in conn.execute(sa.text(
            "select id, updated_at from nonconformity where status = 'closed' and closed_on is null")).all():
        conn.execute(sa.text("update nonconformity set closed_on = :day where id = :id"),
                     {"day": _logged_day(conn, "nonconformity", nc_id, "status", updated), "id": nc_id})

    # plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 and PostgreSQL): a batch copy of these tables
    # would have to drop tables that others reference
    for table, column in (('tenant', 'iso_edition'), ('declaration', 'posted_at_office'),
                          ('declaration', 'published_online'), ('certificate', 'withdrawn_on')):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')


def downgrade():
    conn = op.get_bind()
    op.execute("ALTER TABLE certificate ADD COLUMN withdrawn_on DATE")
    op.execute("ALTER TABLE declaration ADD COLUMN published_online BOOLEAN DEFAULT false NOT NULL")
    op.execute("ALTER TABLE declaration ADD COLUMN posted_at_office BOOLEAN DEFAULT false NOT NULL")
    op.execute("ALTER TABLE tenant ADD COLUMN iso_edition VARCHAR(4) DEFAULT '2015' NOT NULL")
    conn.execute(sa.text("update certificate set withdrawn_on = ended_on where ended_on is not null"))
    conn.execute(sa.text("update declaration set posted_at_office = :yes where posted_on is not null"), {"yes": True})
    conn.execute(sa.text("update declaration set published_online = :yes where published_on is not null"),
                 {"yes": True})
    conn.execute(sa.text(
        "update tenant set iso_edition = coalesce((select d.edition from declaration d where d.tenant_id = tenant.id "
        "and d.archived_at is null order by d.decided_on desc, d.id desc limit 1), '2015')"))
    for table, column in (('certificate', 'end_reason'), ('certificate', 'ended_on'), ('declaration', 'published_on'),
                          ('declaration', 'posted_on'), ('management_review', 'held_on'),
                          ('tenant', 'established_on')):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
