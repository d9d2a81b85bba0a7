"""The console's phone search: cases.contact_phone_last4, the last 4 digits of the contact's
phone (indexed), filled here for the cases there are.

Only the last 4 digits, what the masked view shows anyway: a full number typed in the search
is compared with the few cases those digits find (bot/cases/search.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 09:00:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_cases_contact_phone_last4"
BATCH = 500


def _last4(phone: object) -> str | None:
    """bot.cases.search.phone_last4 as of this revision (kept here: a revision must not change)."""
    import unicodedata

    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone if isinstance(phone, str) else ""))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits[-4:] if len(digits) >= 7 else None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("contact_phone_last4", sa.String(length=4), nullable=True))
        batch.create_index(INDEX, ["contact_phone_last4"])

    if op.get_context().as_sql:
        # Offline (`upgrade head --sql`): the digits come from JSON read in Python, which a SQL
        # script cannot do; run `python -m bot.migrations upgrade head` once online to fill them.
        return
    cases = sa.table(
        "cases", sa.column("id", sa.Integer()), sa.column("contact", sa.JSON()), sa.column("contact_phone_last4")
    )
    conn = op.get_bind()
    last_id = 0
    while True:
        rows = conn.execute(
            sa.select(cases.c.id, cases.c.contact).where(cases.c.id > last_id).order_by(cases.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            digits = _last4((row.contact or {}).get("phone") if isinstance(row.contact, dict) else None)
            if digits:
                conn.execute(sa.update(cases).where(cases.c.id == row.id).values(contact_phone_last4=digits))
        last_id = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index(INDEX)
        batch.drop_column("contact_phone_last4")
