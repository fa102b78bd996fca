"""activity log: overseers may record that they opened an agency

Revision ID: 0007_oversight_views
Revises: 0006_conformity
Create Date: 2026-11-21 18:00:00

"""
from alembic import op

from govqms.core.rls import activity_insert_statements, activity_oversight_view_statements, run_statements

# revision identifiers, used by Alembic.
revision = '0007_oversight_views'
down_revision = '0006_conformity'
branch_labels = None
depends_on = None


def upgrade():
    run_statements(op, activity_oversight_view_statements())


def downgrade():
    run_statements(op, activity_insert_statements())

