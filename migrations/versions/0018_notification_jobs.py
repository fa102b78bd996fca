"""notifications: the job that recorded a notification and the one that emailed it, so a job's summary
counts what all its attempts did

Revision ID: 0018_notification_jobs
Revises: 0017_job_outbox
Create Date: 2026-11-30 05:30:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018_notification_jobs'
down_revision = '0017_job_outbox'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_job', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('emailed_by_job', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_notification_created_by_job'), ['created_by_job'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_emailed_by_job'), ['emailed_by_job'], unique=False)


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_emailed_by_job'))
        batch_op.drop_index(batch_op.f('ix_notification_created_by_job'))
        batch_op.drop_column('emailed_by_job')
        batch_op.drop_column('created_by_job')
