"""separate consent purposes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 07:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('consent_texts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purposes', sa.JSON(), server_default='[]',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('consent_texts', schema=None) as batch_op:
        batch_op.drop_column('purposes')
