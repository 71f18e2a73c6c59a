"""programmes, stages, participations, target marks and entries; units can be retired

Revision ID: 0015
Revises: 0010
Create Date: 2026-11-21 10:41:15

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('programmes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programmes')),
    sa.UniqueConstraint('name', name=op.f('uq_programmes_name'))
    )
    op.create_table('programme_stages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_programme_stages_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_programme_stages_programme_id_programmes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_stages')),
    sa.UniqueConstraint('programme_id', 'number', name=op.f('uq_programme_stages_programme_id_number'))
    )
    with op.batch_alter_table('programme_stages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_stages_programme_id'), ['programme_id'], unique=False)

    op.create_table('programme_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('COUNTED', 'ENTERED', name='markkind', native_enum=False, length=20), nullable=False),
    sa.Column('metric', sa.String(length=40), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('target', sa.Integer(), nullable=False),
    sa.Column('final_value', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['stage_id'], ['programme_stages.id'], name=op.f('fk_programme_marks_stage_id_programme_stages')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_programme_marks_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_marks'))
    )
    with op.batch_alter_table('programme_marks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_marks_stage_id'), ['stage_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_marks_unit_id'), ['unit_id'], unique=False)

    op.create_table('programme_participations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('ACTIVE', 'ADVANCED', 'DROPPED_OUT', 'WITHDRAWN', name='participationstatus', native_enum=False, length=20), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_programme_participations_decided_by_id_users')),
    sa.ForeignKeyConstraint(['stage_id'], ['programme_stages.id'], name=op.f('fk_programme_participations_stage_id_programme_stages')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_programme_participations_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_participations')),
    sa.UniqueConstraint('stage_id', 'unit_id', name=op.f('uq_programme_participations_stage_id_unit_id'))
    )
    with op.batch_alter_table('programme_participations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_participations_stage_id'), ['stage_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_participations_unit_id'), ['unit_id'], unique=False)

    op.create_table('programme_mark_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mark_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('form_key', sa.String(length=64), nullable=True),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_programme_mark_entries_entered_by_id_users')),
    sa.ForeignKeyConstraint(['mark_id'], ['programme_marks.id'], name=op.f('fk_programme_mark_entries_mark_id_programme_marks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_mark_entries')),
    sa.UniqueConstraint('form_key', name=op.f('uq_programme_mark_entries_form_key'))
    )
    with op.batch_alter_table('programme_mark_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_mark_entries_mark_id'), ['mark_id'], unique=False)

    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('retired_at')

    with op.batch_alter_table('programme_mark_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_mark_entries_mark_id'))

    op.drop_table('programme_mark_entries')
    with op.batch_alter_table('programme_participations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_participations_unit_id'))
        batch_op.drop_index(batch_op.f('ix_programme_participations_stage_id'))

    op.drop_table('programme_participations')
    with op.batch_alter_table('programme_marks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_marks_unit_id'))
        batch_op.drop_index(batch_op.f('ix_programme_marks_stage_id'))

    op.drop_table('programme_marks')
    with op.batch_alter_table('programme_stages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_stages_programme_id'))

    op.drop_table('programme_stages')
    op.drop_table('programmes')
