"""audit chain and append-only triggers

The tamper-evident chain lives in `audit_chain` (appended by the sealer, never by request
transactions); `audit_pending` is the sealer's work queue, filled by a trigger on
`audit_event` insert so a request still writes exactly one row. UPDATE/DELETE (and TRUNCATE
on PostgreSQL) of `audit_event` and `audit_chain` are rejected by triggers on both dialects.

Revision ID: bd4c17df450a
Revises: 56595667317e
Create Date: 2026-11-24 15:25:41.467270

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "bd4c17df450a"
down_revision: str | Sequence[str] | None = "56595667317e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("audit_event", "audit_chain")

PG_FUNCTIONS = (
    """
    CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit trail is append-only: % on % rejected', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION audit_enqueue() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO audit_pending (event_id) VALUES (NEW.id);
        RETURN NULL;
    END
    $$
    """,
)


def _create_tables() -> None:
    op.create_table(
        "audit_chain",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["audit_event.id"], name=op.f("fk_audit_chain_event_id_audit_event")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_chain")),
        sa.UniqueConstraint("event_id", name=op.f("uq_audit_chain_event_id")),
    )
    op.create_table(
        "audit_pending",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["audit_event.id"], name=op.f("fk_audit_pending_event_id_audit_event")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_pending")),
    )


def upgrade() -> None:
    _create_tables()
    # Events written before this revision join the chain at the next seal.
    op.execute("INSERT INTO audit_pending (event_id) SELECT id FROM audit_event")
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def _upgrade_sqlite() -> None:
    for table in APPEND_ONLY:
        for op_name in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{op_name.lower()} BEFORE {op_name} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op_name} rejected'); END"
            )
    op.execute(
        "CREATE TRIGGER audit_event_enqueue AFTER INSERT ON audit_event "
        "BEGIN INSERT INTO audit_pending (event_id) VALUES (NEW.id); END"
    )


def _upgrade_postgresql() -> None:
    for sql in PG_FUNCTIONS:
        op.execute(sql)
    for table in APPEND_ONLY:
        for op_name in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{op_name.lower()} BEFORE {op_name} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_reject_change()"
            )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()"
        )
    op.execute(
        "CREATE TRIGGER audit_event_enqueue AFTER INSERT ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_enqueue()"
    )
    # resource_id filter of GET /audit-events: containment on the JSON array of ids.
    op.execute(
        "CREATE INDEX ix_audit_event_resource_ids ON audit_event "
        "USING gin ((resource_ids::jsonb) jsonb_path_ops)"
    )


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    triggers = [(t, f"{t}_no_{o}") for t in APPEND_ONLY for o in ("update", "delete")]
    if pg:
        triggers += [(t, f"{t}_no_truncate") for t in APPEND_ONLY]
    triggers.append(("audit_event", "audit_event_enqueue"))
    for table, name in triggers:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if pg else f"DROP TRIGGER {name}")
    if pg:
        op.execute("DROP INDEX IF EXISTS ix_audit_event_resource_ids")
        op.execute("DROP FUNCTION IF EXISTS audit_enqueue()")
        op.execute("DROP FUNCTION IF EXISTS audit_reject_change()")
    op.drop_table("audit_pending")
    op.drop_table("audit_chain")
