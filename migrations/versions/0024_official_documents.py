"""official documents: who issues and signs a jurisdiction's documents, the narrative of its yearly
reports, the templates it replaced; an inspection's team and the written request of a paper inspection

Revision ID: 0024_official_documents
Revises: 0023_vietnamese_collation
Create Date: 2026-12-08 02:30:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024_official_documents'
down_revision = '0023_vietnamese_collation'
branch_labels = None
depends_on = None

PROFILE = ('authority', 'name', 'title_name', 'symbol', 'unit_symbol', 'unit_name', 'place', 'area', 'superior',
           'signer_capacity', 'signer_title', 'signer_name', 'decider')
LENGTHS = {'symbol': 40, 'unit_symbol': 40, 'place': 100, 'signer_capacity': 100, 'signer_title': 100}


def _stamps():
    return [sa.Column('version', sa.Integer(), server_default='1', nullable=False),
            sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
            sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False)]


def upgrade():
    op.create_table('official_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction_id', sa.Integer(), nullable=False),
    *[sa.Column(name, sa.String(length=LENGTHS.get(name, 255)), nullable=False) for name in PROFILE],
    *_stamps(),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'],
                            name=op.f('fk_official_profile_jurisdiction_id_jurisdiction'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_official_profile')),
    sa.UniqueConstraint('jurisdiction_id', name=op.f('uq_official_profile_jurisdiction_id'))
    )
    op.create_table('report_text',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('direction', sa.Text(), nullable=False),
    sa.Column('assessment', sa.Text(), nullable=False),
    sa.Column('difficulties', sa.Text(), nullable=False),
    sa.Column('recommendations', sa.Text(), nullable=False),
    *_stamps(),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'],
                            name=op.f('fk_report_text_jurisdiction_id_jurisdiction'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_text')),
    sa.UniqueConstraint('jurisdiction_id', 'year', 'kind', name=op.f('uq_report_text_jurisdiction_id_year_kind'))
    )
    op.create_table('document_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'],
                            name=op.f('fk_document_template_jurisdiction_id_jurisdiction'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_document_template_uploaded_by_id_user'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_template'))
    )
    with op.batch_alter_table('document_template', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_template_jurisdiction_id'), ['jurisdiction_id'], unique=False)
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('request_number', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('request_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('request_deadline', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.drop_column('request_deadline')
        batch_op.drop_column('request_on')
        batch_op.drop_column('request_number')
        batch_op.drop_column('team')
    with op.batch_alter_table('document_template', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_template_jurisdiction_id'))
    op.drop_table('document_template')
    op.drop_table('report_text')
    op.drop_table('official_profile')
