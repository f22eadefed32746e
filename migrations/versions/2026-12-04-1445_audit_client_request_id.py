"""audit_event.client_request_id

The caller's own X-Request-Id is kept beside the server-generated request_id (issue 19
item 16): ids a caller chooses can repeat, so they never stand in for the event's own id.
A plain nullable column: ALTER TABLE ADD/DROP COLUMN on both dialects, so SQLite keeps the
append-only triggers of audit_event (a batch table copy would drop them).

Revision ID: c1a2b3d4e5f6
Revises: 7c1e2a9d4b10
Create Date: 2026-12-04 14:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c1a2b3d4e5f6"
down_revision: str | Sequence[str] | None = "7c1e2a9d4b10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("client_request_id", sa.String(length=64)))


def downgrade() -> None:
    # Native on PostgreSQL and SQLite >= 3.35; no table copy, so triggers stay.
    op.execute("ALTER TABLE audit_event DROP COLUMN client_request_id")
