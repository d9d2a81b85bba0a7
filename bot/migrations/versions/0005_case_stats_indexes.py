"""The supervisor's figures (bot/cases/stats.py): indexes on the moments they count by —
when a case was received, resolved and followed up, and the transfer events by time.

Revision ID: 0005_case_stats
Revises: 0004
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_case_stats"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CASE_INDEXES = {
    "ix_cases_created_at": ["created_at"],
    "ix_cases_resolved_at": ["resolved_at"],
    "ix_cases_followup_at": ["followup_at"],
}


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        for name, columns in CASE_INDEXES.items():
            batch.create_index(name, columns)
    with op.batch_alter_table("case_events") as batch:
        batch.create_index("ix_case_events_action_at", ["action", "at"])


def downgrade() -> None:
    with op.batch_alter_table("case_events") as batch:
        batch.drop_index("ix_case_events_action_at")
    with op.batch_alter_table("cases") as batch:
        for name in CASE_INDEXES:
            batch.drop_index(name)
