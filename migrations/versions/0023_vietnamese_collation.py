"""the collation ``vi``: names ordered the Vietnamese way in SQL

Revision ID: 0023_vietnamese_collation
Revises: 0022_signature_checks
Create Date: 2026-12-01 09:00:00

Lists ordered in the database (``order_by(vi_order(Tenant.name))``, see ``govqms.core.db``) say
``ORDER BY name COLLATE vi``. On PostgreSQL ``vi`` is ICU's Vietnamese collation: letters a ă â b c d đ e
ê … primary, tones (none, huyền, hỏi, ngã, sắc, nặng) secondary; the server needs ICU (every PostgreSQL
package of Debian and the official images has it). On SQLite the application registers ``vi`` on each
connection: nothing to do here.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023_vietnamese_collation'
down_revision = '0022_signature_checks'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE COLLATION IF NOT EXISTS vi (provider = icu, locale = 'vi-VN')")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP COLLATION IF EXISTS vi")
