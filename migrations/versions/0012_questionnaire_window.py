"""questionnaire settings: opening and closing time, maximum of responses, settings revision

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-21 10:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('questionnaires', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opens_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closes_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('max_responses', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('settings_revision', sa.Integer(), server_default='1',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('questionnaires', schema=None) as batch_op:
        batch_op.drop_column('settings_revision')
        batch_op.drop_column('max_responses')
        batch_op.drop_column('closes_at')
        batch_op.drop_column('opens_at')
