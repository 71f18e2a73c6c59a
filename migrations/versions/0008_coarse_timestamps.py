"""anonymity: coarse timestamps option, digests of unlinked resume tokens

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 09:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('questionnaires', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coarse_timestamps', sa.Boolean(), server_default='1',
                                      nullable=False))
    op.create_table(
        'sent_links',
        sa.Column('resume_digest', sa.String(length=64), nullable=False),
        sa.Column('questionnaire_id', sa.Integer(), nullable=False),
        sa.Column('sent_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaires.id'],
                                name=op.f('fk_sent_links_questionnaire_id_questionnaires')),
        sa.PrimaryKeyConstraint('resume_digest', name=op.f('pk_sent_links')),
    )
    with op.batch_alter_table('sent_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sent_links_questionnaire_id'), ['questionnaire_id'],
                              unique=False)


def downgrade():
    op.drop_table('sent_links')
    with op.batch_alter_table('questionnaires', schema=None) as batch_op:
        batch_op.drop_column('coarse_timestamps')
