"""retention periods of questionnaires

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 07:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('questionnaires', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_days', sa.Integer(), server_default='730',
                                      nullable=False))
        batch_op.add_column(sa.Column('draft_days', sa.Integer(), server_default='30',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('questionnaires', schema=None) as batch_op:
        batch_op.drop_column('draft_days')
        batch_op.drop_column('retention_days')
