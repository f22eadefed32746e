"""search indexes, owners, comments (what a PM reaches for first, issue #16)

- Full-text search: on PostgreSQL a `search_document` table of weighted `tsvector`s (GIN
  index) kept in step by triggers on each searchable table, in the writing transaction;
  on SQLite one FTS5 table `search_fts` filled from the existing
  rows and kept in step by triggers. Interviews and insights contribute their redacted
  renditions only.
- `story.assignee_sub`, `roadmap_item.owner_sub` (who works on / drives it; grant nothing).
- `comment` and `comment_revision` (edit history).
- `audit_event (product_id, occurred_at, id)`: a product's activity stream.

Revision ID: 3e8d51c0a7f2
Revises: c2421944927e
Create Date: 2026-12-04 15:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# The document expressions are shared with the queries on purpose: a PostgreSQL expression
# index serves only a query repeating its expression exactly.
from app.search.index import (
    FTS_CREATE,
    FTS_TABLE,
    PG_CREATE,
    PG_INDEX,
    PG_SCOPE_INDEX,
    PG_TABLE,
    TYPES,
    pg_fill,
    pg_trigger,
    sqlite_fill,
    sqlite_triggers,
)

# revision identifiers, used by Alembic.
revision: str = "3e8d51c0a7f2"
down_revision: str | Sequence[str] | None = "c2421944927e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _is_pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    with op.batch_alter_table("story", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee_sub", sa.String(length=255), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_story_assignee_sub_id"), ["assignee_sub", "id"], unique=False
        )
    with op.batch_alter_table("roadmap_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_sub", sa.String(length=255), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_roadmap_item_owner_sub_id"), ["owner_sub", "id"], unique=False
        )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_event_product_id_occurred_at_id"),
            ["product_id", "occurred_at", "id"],
            unique=False,
        )

    op.create_table(
        "comment",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("story_id", sa.Uuid(), nullable=True),
        sa.Column("roadmap_item_id", sa.Uuid(), nullable=True),
        sa.Column("author_sub", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("phi_categories", sa.JSON(), nullable=False),
        sa.Column("mentions", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(story_id IS NULL) <> (roadmap_item_id IS NULL)",
            name=op.f("ck_comment_one_parent"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_comment_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["roadmap_item_id"],
            ["roadmap_item.id"],
            name=op.f("fk_comment_roadmap_item_id_roadmap_item"),
        ),
        sa.ForeignKeyConstraint(["story_id"], ["story.id"], name=op.f("fk_comment_story_id_story")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment")),
    )
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_comment_story_id_created_at_id"),
            ["story_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_comment_roadmap_item_id_created_at_id"),
            ["roadmap_item_id", "created_at", "id"],
            unique=False,
        )
    op.create_table(
        "comment_revision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("comment_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comment.id"], name=op.f("fk_comment_revision_comment_id_comment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_revision")),
    )
    with op.batch_alter_table("comment_revision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_comment_revision_comment_id_version"),
            ["comment_id", "version"],
            unique=False,
        )

    if _is_pg():
        op.execute(PG_CREATE)
        for type_ in TYPES:
            for create in pg_trigger(type_)[2]:
                op.execute(create)
            op.execute(pg_fill(type_))
        op.execute(PG_INDEX)
        op.execute(PG_SCOPE_INDEX)
    else:
        op.execute(FTS_CREATE)
        for type_ in TYPES:
            for _, create in sqlite_triggers(type_):
                op.execute(create)
            op.execute(sqlite_fill(type_))


def downgrade() -> None:
    if _is_pg():
        for type_ in TYPES:
            fn, trg, _ = pg_trigger(type_)
            op.execute(f"DROP TRIGGER IF EXISTS {trg} ON {type_}")
            op.execute(f"DROP FUNCTION IF EXISTS {fn}()")
        op.execute(f"DROP TABLE IF EXISTS {PG_TABLE}")
    else:
        for type_ in TYPES:
            for name, _ in sqlite_triggers(type_):
                op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")

    with op.batch_alter_table("comment_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_revision_comment_id_version"))
    op.drop_table("comment_revision")
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_roadmap_item_id_created_at_id"))
        batch_op.drop_index(batch_op.f("ix_comment_story_id_created_at_id"))
    op.drop_table("comment")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_product_id_occurred_at_id"))
    # Plain ALTER TABLE … DROP COLUMN (SQLite >= 3.35), after their indexes: a batch copy
    # would DROP tables that others reference, which foreign keys refuse.
    op.drop_index(op.f("ix_roadmap_item_owner_sub_id"), table_name="roadmap_item")
    op.drop_column("roadmap_item", "owner_sub")
    op.drop_index(op.f("ix_story_assignee_sub_id"), table_name="story")
    op.drop_column("story", "assignee_sub")
