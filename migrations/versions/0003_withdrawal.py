"""withdrawal of responses by receipt code

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 07:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # The WITHDRAWN status needs no change: statuses are stored as strings without a constraint.
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_at')
