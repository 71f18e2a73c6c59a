"""contacts, personal invitations and the messages sent for them

Revision ID: 0013
Revises: 0010
Create Date: 2026-11-21 10:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'contacts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('questionnaire_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('phone', sa.String(length=32), nullable=True),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('language', sa.String(length=10), nullable=False),
        sa.Column('do_not_contact', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaires.id'],
                                name=op.f('fk_contacts_questionnaire_id_questionnaires')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_contacts_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
        sa.UniqueConstraint('questionnaire_id', 'email', name=op.f('uq_contacts_questionnaire_id_email')),
        sa.UniqueConstraint('questionnaire_id', 'phone', name=op.f('uq_contacts_questionnaire_id_phone')),
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_questionnaire_id'), ['questionnaire_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_unit_id'), ['unit_id'], unique=False)

    op.create_table(
        'invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('questionnaire_id', sa.Integer(), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('nonce', sa.String(length=32), nullable=False),
        sa.Column('token_digest', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('response_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'],
                                name=op.f('fk_invitations_contact_id_contacts')),
        sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaires.id'],
                                name=op.f('fk_invitations_questionnaire_id_questionnaires')),
        sa.ForeignKeyConstraint(['response_id'], ['responses.id'],
                                name=op.f('fk_invitations_response_id_responses'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
        sa.UniqueConstraint('response_id', name=op.f('uq_invitations_response_id')),
        sa.UniqueConstraint('token_digest', name=op.f('uq_invitations_token_digest')),
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_contact_id'), ['contact_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_questionnaire_id'), ['questionnaire_id'],
                              unique=False)

    op.create_table(
        'sent_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invitation_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('INVITATION', 'REMINDER', name='messagekind',
                                  native_enum=False, length=20), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.Enum('SENT', 'FAILED', name='messagestatus',
                                    native_enum=False, length=20), nullable=False),
        sa.Column('error', sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'],
                                name=op.f('fk_sent_messages_invitation_id_invitations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sent_messages')),
    )
    with op.batch_alter_table('sent_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sent_messages_invitation_id'), ['invitation_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_sent_messages_sent_at'), ['sent_at'], unique=False)


def downgrade():
    op.drop_table('sent_messages')
    op.drop_table('invitations')
    op.drop_table('contacts')
