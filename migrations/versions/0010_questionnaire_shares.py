"""builders a questionnaire is shared with

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 09:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'questionnaire_shares',
        sa.Column('questionnaire_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaires.id'],
                                name=op.f('fk_questionnaire_shares_questionnaire_id_questionnaires')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_questionnaire_shares_user_id_users')),
        sa.PrimaryKeyConstraint('questionnaire_id', 'user_id', name=op.f('pk_questionnaire_shares')),
    )


def downgrade():
    op.drop_table('questionnaire_shares')
