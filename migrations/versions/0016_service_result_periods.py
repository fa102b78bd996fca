"""service results: reporting periods as the forms have them (months, quarters, half-years, years, a range
of whole months), and the field (lĩnh vực) a row is for

Revision ID: 0016_service_result_periods
Revises: 0015_standing_version
Create Date: 2026-11-30 03:00:00

Every stored row was one month: it becomes the period of that month, from its first to its last day.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016_service_result_periods'
down_revision = '0015_standing_version'
branch_labels = None
depends_on = None


def _unique_on(columns: list[str]) -> str | None:
    """The name of the unique constraint on *columns* as the database reports it (SQLite may have
    recreated it under another name, or none, in an earlier batch operation)."""
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints('service_result'):
        if sorted(constraint['column_names']) == sorted(columns):
            return constraint['name']
    return None


def upgrade():
    old = _unique_on(['tenant_id', 'year', 'month', 'procedure_code'])
    with op.batch_alter_table('service_result', schema=None) as batch_op:
        if old:
            batch_op.drop_constraint(old, type_='unique')
        batch_op.alter_column('month', new_column_name='first_month', existing_type=sa.Integer(), existing_nullable=False)
        batch_op.add_column(sa.Column('last_month', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('period_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('period_end', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('field', sa.String(length=255), server_default='', nullable=False))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("update service_result set last_month = first_month, period_start = make_date(year, first_month, 1), "
                   "period_end = (make_date(year, first_month, 1) + interval '1 month' - interval '1 day')::date")
    else:
        op.execute("update service_result set last_month = first_month, "
                   "period_start = date(printf('%04d-%02d-01', year, first_month)), "
                   "period_end = date(printf('%04d-%02d-01', year, first_month), '+1 month', '-1 day')")
    with op.batch_alter_table('service_result', schema=None) as batch_op:
        batch_op.alter_column('last_month', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('period_start', existing_type=sa.Date(), nullable=False)
        batch_op.alter_column('period_end', existing_type=sa.Date(), nullable=False)
        batch_op.create_unique_constraint('uq_service_result_period', ['tenant_id', 'year', 'first_month', 'last_month',
                                                                       'field', 'procedure_code'])


def downgrade():
    with op.batch_alter_table('service_result', schema=None) as batch_op:
        batch_op.drop_constraint('uq_service_result_period', type_='unique')
    op.execute("delete from service_result where last_month <> first_month or field <> ''")
    with op.batch_alter_table('service_result', schema=None) as batch_op:
        batch_op.drop_column('field')
        batch_op.drop_column('period_end')
        batch_op.drop_column('period_start')
        batch_op.drop_column('last_month')
        batch_op.alter_column('first_month', new_column_name='month', existing_type=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table('service_result', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_service_result_tenant_id_year_month_procedure_code',
                                          ['tenant_id', 'year', 'month', 'procedure_code'])
