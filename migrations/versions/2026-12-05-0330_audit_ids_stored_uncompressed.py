"""audit_event.resource_ids stored out of line without compression (PostgreSQL)

A read event holds every id it served: a page of 221 objects is ~8.6 kB of JSON text,
above the 2 kB at which PostgreSQL compresses a row's large values. UUID text barely
compresses (the random hex digits), so pglz spent its effort for nothing on every audited
read: ~0.16 ms of database CPU per roadmap-page request, ~0.2 ms per 50-row list
(bench/README.md, "Session 8"). STORAGE EXTERNAL keeps TOASTing such values out of line
but skips the compression attempt; reading them back (the sealer, `audit verify`) no
longer decompresses either. Only rows written from now on are affected; nothing is
rewritten, and the hash chain covers the values, not how they are stored.

Revision ID: 8c1e4a7d2b90
Revises: 5b7f0c2d9e41
Create Date: 2026-12-05 03:30:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "8c1e4a7d2b90"
down_revision: str | None = "5b7f0c2d9e41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _storage(kind: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE audit_event ALTER COLUMN resource_ids SET STORAGE {kind}")


def upgrade() -> None:
    _storage("EXTERNAL")


def downgrade() -> None:
    _storage("EXTENDED")
