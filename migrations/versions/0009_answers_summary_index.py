"""covering index for result aggregates on answers

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 10:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_question_option')
        # Values sorted within a question, so their frequency table streams from the index.
        batch_op.create_index('ix_answers_summary', ['question_id', 'option_code', 'row_code',
                                                     'value_number', 'value_date',
                                                     'response_id'], unique=False)


def downgrade():
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_summary')
        batch_op.create_index('ix_answers_question_option', ['question_id', 'option_code'],
                              unique=False)
