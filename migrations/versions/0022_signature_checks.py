"""signatures: the result of verifying a stored PDF's digital signatures (per agency and file content), and
the digitally signed minutes of a management review and of an inspection

Revision ID: 0022_signature_checks
Revises: 0021_user_sessions
Create Date: 2026-12-08 01:00:00

Files stored before this revision have no result: their pages say "not checked", and a keeper checks them.
"""
import sqlalchemy as sa
from alembic import op

from govqms.core.rls import disable_tenant_rls, enable_tenant_rls

# revision identifiers, used by Alembic.
revision = '0022_signature_checks'
down_revision = '0021_user_sessions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('signature_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('signer', sa.String(length=500), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('anchors', sa.JSON(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_signature_check_tenant_id_tenant'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signature_check')),
    sa.UniqueConstraint('tenant_id', 'sha256', name=op.f('uq_signature_check_tenant_id_sha256'))
    )
    with op.batch_alter_table('signature_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signature_check_tenant_id'), ['tenant_id'], unique=False)
    enable_tenant_rls(op, 'signature_check')

    with op.batch_alter_table('management_review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signed_minutes_key', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('signed_minutes_name', sa.String(length=255), nullable=True))
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signed_minutes_key', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('signed_minutes_name', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.drop_column('signed_minutes_name')
        batch_op.drop_column('signed_minutes_key')
    with op.batch_alter_table('management_review', schema=None) as batch_op:
        batch_op.drop_column('signed_minutes_name')
        batch_op.drop_column('signed_minutes_key')
    disable_tenant_rls(op, 'signature_check')
    with op.batch_alter_table('signature_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signature_check_tenant_id'))
    op.drop_table('signature_check')
