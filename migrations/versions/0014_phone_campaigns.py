"""phone campaigns: campaigns, interviewers, call lists, calls; the interviewer of a response

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-21 10:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

ENTRY_STATUS = sa.Enum('OPEN', 'INTERVIEWING', 'COMPLETED', 'REFUSED', 'WRONG_NUMBER',
                       'DO_NOT_CALL', 'EXHAUSTED', name='entrystatus', native_enum=False,
                       length=20)


def outcome():
    return sa.Enum('REACHED', 'NO_ANSWER', 'CALLBACK', 'WRONG_NUMBER', 'REFUSED', 'DO_NOT_CALL',
                   name='calloutcome', native_enum=False, length=20)


def upgrade():
    op.create_table(
        'campaigns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('questionnaire_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('script', sa.Text(), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('retry_minutes', sa.Integer(), nullable=False),
        sa.Column('claim_minutes', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'],
                                name=op.f('fk_campaigns_created_by_users')),
        sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaires.id'],
                                name=op.f('fk_campaigns_questionnaire_id_questionnaires')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_questionnaire_id'), ['questionnaire_id'],
                              unique=False)
    op.create_table(
        'campaign_interviewers',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE',
                                name=op.f('fk_campaign_interviewers_campaign_id_campaigns')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_campaign_interviewers_user_id_users')),
        sa.PrimaryKeyConstraint('campaign_id', 'user_id', name=op.f('pk_campaign_interviewers')),
    )
    op.create_table(
        'call_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('phone', sa.String(length=40), nullable=False),
        sa.Column('language', sa.String(length=10), nullable=True),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('status', ENTRY_STATUS, nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_call_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('is_callback', sa.Boolean(), nullable=False),
        sa.Column('last_outcome', outcome(), nullable=True),
        sa.Column('last_called_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claimed_by', sa.Integer(), nullable=True),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE',
                                name=op.f('fk_call_entries_campaign_id_campaigns')),
        sa.ForeignKeyConstraint(['claimed_by'], ['users.id'],
                                name=op.f('fk_call_entries_claimed_by_users')),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ondelete='CASCADE',
                                name=op.f('fk_call_entries_contact_id_contacts')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'],
                                name=op.f('fk_call_entries_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_call_entries')),
        sa.UniqueConstraint('campaign_id', 'contact_id',
                            name=op.f('uq_call_entries_campaign_id_contact_id')),
    )
    with op.batch_alter_table('call_entries', schema=None) as batch_op:
        batch_op.create_index('ix_call_entries_queue', ['campaign_id', 'status', 'next_call_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_call_entries_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_entries_contact_id'), ['contact_id'],
                              unique=False)
    op.create_table(
        'call_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('interviewer_id', sa.Integer(), nullable=False),
        sa.Column('called_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', outcome(), nullable=False),
        sa.Column('callback_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['entry_id'], ['call_entries.id'], ondelete='CASCADE',
                                name=op.f('fk_call_attempts_entry_id_call_entries')),
        sa.ForeignKeyConstraint(['interviewer_id'], ['users.id'],
                                name=op.f('fk_call_attempts_interviewer_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_call_attempts')),
        sa.UniqueConstraint('entry_id', 'number', name=op.f('uq_call_attempts_entry_id_number')),
    )
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_attempts_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_attempts_interviewer_id'), ['interviewer_id'],
                              unique=False)
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interviewer_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_responses_interviewer_id_users'), 'users',
                                    ['interviewer_id'], ['id'])


def downgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_responses_interviewer_id_users'),
                                 type_='foreignkey')
        batch_op.drop_column('interviewer_id')
    op.drop_table('call_attempts')
    op.drop_table('call_entries')
    op.drop_table('campaign_interviewers')
    op.drop_table('campaigns')
