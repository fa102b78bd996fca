"""agencies: a standing version, renewed whenever one of their records changes

Revision ID: 0015_standing_version
Revises: 0014_rls_hashed_scope
Create Date: 2026-11-30 00:30:00

Every agency starts with a random version of its own.
"""
import uuid

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015_standing_version'
down_revision = '0014_rls_hashed_scope'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('tenant', sa.Column('standing_version', sa.String(length=32), nullable=True))
    conn = op.get_bind()
    for (tenant_id,) in conn.execute(sa.text("select id from tenant")).all():
        conn.execute(sa.text("update tenant set standing_version = :v where id = :id"),
                     {"v": uuid.uuid4().hex, "id": tenant_id})


def downgrade():
    op.execute("ALTER TABLE tenant DROP COLUMN standing_version")
