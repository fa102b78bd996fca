"""jobs: the outbox. A job is recorded in the transaction of the write that asks for it and relayed to
the queue after the commit; ``relayed_at`` says it reached the queue (or ran inline)

Revision ID: 0017_job_outbox
Revises: 0016_service_result_periods
Create Date: 2026-11-30 05:00:00

Jobs recorded before are taken as relayed when they were created: the queue had them, or they failed
on the way and stay visible in the back office.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017_job_outbox'
down_revision = '0016_service_result_periods'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('relayed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_job_relayed_at'), ['relayed_at'], unique=False)
    op.execute("update job set relayed_at = created_at")


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_relayed_at'))
        batch_op.drop_column('relayed_at')
