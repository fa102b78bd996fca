"""webhooks: subscriptions of an agency or a jurisdiction to events, and their delivery log

Revision ID: 0026_webhooks
Revises: 0025_api_tokens
Create Date: 2026-12-08 03:20:00

Both tables name their owner: an agency (``tenant_id``) or a jurisdiction (``jurisdiction_id``, no agency).
An agency's rows are walled in like its data; a jurisdiction's rows only by the overseers of that
jurisdiction or of one above it (the acting user's oversight roles), and the all-tenants scope (the
delivery jobs, and the events recorded for subscriptions of the jurisdictions above an agency).
"""
import sqlalchemy as sa
from alembic import op

from govqms.core.rls import (
    SEALED_ALL,
    SEALED_IN_VISIBLE,
    SEALED_IS_WRITABLE,
    SESSION_USER,
    disable_tenant_rls,
    run_statements,
)

# revision identifiers, used by Alembic.
revision = '0026_webhooks'
down_revision = '0025_api_tokens'
branch_labels = None
depends_on = None

TABLES = ('webhook_subscription', 'webhook_delivery')


def policy_statements(table: str) -> list[str]:
    overseer = (
        f"(tenant_id is null and exists (select 1 from oversight_role r"
        f" join jurisdiction a on a.id = r.jurisdiction_id join jurisdiction j on j.id = {table}.jurisdiction_id"
        f" where r.user_id = {SESSION_USER} and left(j.path, length(a.path)) = a.path))"
    )
    read = f"{SEALED_ALL} or (tenant_id is not null and {SEALED_IN_VISIBLE.format(col='tenant_id')}) or {overseer}"
    write = f"{SEALED_ALL} or (tenant_id is not null and {SEALED_IS_WRITABLE.format(col='tenant_id')}) or {overseer}"
    return [
        f"alter table {table} enable row level security",
        f"create policy tenant_select on {table} for select using ({read})",
        f"create policy tenant_insert on {table} for insert with check ({write})",
        f"create policy tenant_update on {table} for update using ({write}) with check ({write})",
        f"create policy tenant_delete on {table} for delete using ({write})",
    ]


def upgrade():
    op.create_table('webhook_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('jurisdiction_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('secret_encrypted', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(tenant_id IS NULL) <> (jurisdiction_id IS NULL)',
                       name=op.f('ck_webhook_subscription_one_owner')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_webhook_subscription_created_by_id_user'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'],
                            name=op.f('fk_webhook_subscription_jurisdiction_id_jurisdiction'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_webhook_subscription_tenant_id_tenant'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscription'))
    )
    with op.batch_alter_table('webhook_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_subscription_jurisdiction_id'), ['jurisdiction_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_subscription_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('webhook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('jurisdiction_id', sa.Integer(), nullable=True),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(tenant_id IS NULL) <> (jurisdiction_id IS NULL)',
                       name=op.f('ck_webhook_delivery_one_owner')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'],
                            name=op.f('fk_webhook_delivery_jurisdiction_id_jurisdiction'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscription.id'],
                            name=op.f('fk_webhook_delivery_subscription_id_webhook_subscription'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_webhook_delivery_tenant_id_tenant'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery'))
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_delivery_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_delivery_jurisdiction_id'), ['jurisdiction_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_delivery_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_delivery_subscription_id'), ['subscription_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_delivery_tenant_id'), ['tenant_id'], unique=False)

    for table in TABLES:
        run_statements(op, policy_statements(table))


def downgrade():
    for table in reversed(TABLES):
        disable_tenant_rls(op, table)
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_subscription_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_jurisdiction_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_event_id'))
    op.drop_table('webhook_delivery')
    with op.batch_alter_table('webhook_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_subscription_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_subscription_jurisdiction_id'))
    op.drop_table('webhook_subscription')
