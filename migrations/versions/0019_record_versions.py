"""editable records count their versions: an edit form carries the version it showed, and a save of a
form opened before someone else's change is refused instead of overwriting it

Revision ID: 0019_record_versions
Revises: 0018_notification_jobs
Create Date: 2026-11-30 06:00:00

Every existing row starts at version 1.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019_record_versions'
down_revision = '0018_notification_jobs'
branch_labels = None
depends_on = None

TABLES = ('admin_procedure', 'audit', 'data_call_reply', 'document', 'inspection', 'legal_change',
          'management_review', 'nonconformity', 'objective', 'record_entry', 'document_revision', 'risk',
          'satisfaction_survey', 'service_result', 'unit', 'unit_call_reply')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
