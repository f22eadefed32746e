"""approval and review history (gates that hold, issue #15)

`roadmap_item_approval` keeps every exec approval of a roadmap item with the version it
approved; a material change marks it stale (kept, no longer counting). `roadmap_item
.approval_status` (none|current|stale) says whether the item's approval counts now.
`story_review` keeps every clinical review decision with the story version it reviewed; a
later review supersedes it, a change to reviewed content ends an approval.

Existing data is carried over: an item with approved_at becomes `current` with one approval
row of its present version, and a story's recorded review (approved/changes_requested)
becomes its one current review row.

Revision ID: 7c1e5a2f9b40
Revises: bd4c17df450a
Create Date: 2026-12-04 14:00:00

"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from app.db.types import UTCDateTime, uuid7

# revision identifiers, used by Alembic.
revision: str = "7c1e5a2f9b40"
down_revision: str | Sequence[str] | None = "bd4c17df450a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "roadmap_item_approval",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("roadmap_item_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("approver_sub", sa.String(length=255), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("stale_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stale_by", sa.String(length=255), nullable=True),
        sa.Column("stale_reason", sa.String(length=32), nullable=True),
        sa.Column("stale_fields", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["roadmap_item_id"],
            ["roadmap_item.id"],
            name=op.f("fk_roadmap_item_approval_roadmap_item_id_roadmap_item"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roadmap_item_approval")),
    )
    with op.batch_alter_table("roadmap_item_approval", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_roadmap_item_approval_roadmap_item_id_approved_at_id"),
            ["roadmap_item_id", "approved_at", "id"],
            unique=False,
        )
    op.create_table(
        "story_review",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("story_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reviewer_sub", sa.String(length=255), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=255), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("changed_fields", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["story_id"], ["story.id"], name=op.f("fk_story_review_story_id_story")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_story_review")),
    )
    with op.batch_alter_table("story_review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_story_review_story_id_reviewed_at_id"),
            ["story_id", "reviewed_at", "id"],
            unique=False,
        )
    with op.batch_alter_table("roadmap_item", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "approval_status", sa.String(length=10), server_default="none", nullable=False
            )
        )
    _carry_over()


def _carry_over() -> None:
    """History rows for approvals and reviews recorded before this revision."""
    bind = op.get_bind()
    item = sa.table(
        "roadmap_item",
        sa.column("id", sa.Uuid()),
        sa.column("version", sa.Integer()),
        sa.column("approved_by", sa.String()),
        sa.column("approved_at", UTCDateTime()),
        sa.column("approval_status", sa.String()),
    )
    approval = sa.table(
        "roadmap_item_approval",
        sa.column("id", sa.Uuid()),
        sa.column("roadmap_item_id", sa.Uuid()),
        sa.column("version", sa.Integer()),
        sa.column("approver_sub", sa.String()),
        sa.column("approved_at", UTCDateTime()),
    )
    approved = bind.execute(
        sa.select(item.c.id, item.c.version, item.c.approved_by, item.c.approved_at).where(
            item.c.approved_at.is_not(None)
        )
    ).all()
    rows = [
        {
            "id": uuid7(),
            "roadmap_item_id": r.id,
            "version": r.version,
            "approver_sub": r.approved_by or "unknown",
            "approved_at": r.approved_at,
        }
        for r in approved
    ]
    if rows:
        bind.execute(sa.insert(approval), rows)
        bind.execute(
            sa.update(item).where(item.c.approved_at.is_not(None)).values(approval_status="current")
        )

    story = sa.table(
        "story",
        sa.column("id", sa.Uuid()),
        sa.column("version", sa.Integer()),
        sa.column("clinical_review", sa.JSON()),
    )
    review = sa.table(
        "story_review",
        sa.column("id", sa.Uuid()),
        sa.column("story_id", sa.Uuid()),
        sa.column("version", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("reviewer_sub", sa.String()),
        sa.column("reviewed_at", UTCDateTime()),
        sa.column("comment", sa.Text()),
    )
    reviews = []
    for r in bind.execute(
        sa.select(story.c.id, story.c.version, story.c.clinical_review).where(
            story.c.clinical_review.is_not(None)
        )
    ).all():
        data = r.clinical_review or {}
        if data.get("status") not in ("approved", "changes_requested"):
            continue
        at = data.get("reviewed_at")
        reviews.append(
            {
                "id": uuid7(),
                "story_id": r.id,
                "version": r.version,
                "status": data["status"],
                "reviewer_sub": data.get("reviewer_sub") or "unknown",
                "reviewed_at": datetime.fromisoformat(at) if at else datetime.now().astimezone(),
                "comment": data.get("comment"),
            }
        )
    if reviews:
        bind.execute(sa.insert(review), reviews)


def downgrade() -> None:
    with op.batch_alter_table("story_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_story_review_story_id_reviewed_at_id"))
    op.drop_table("story_review")
    with op.batch_alter_table("roadmap_item_approval", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roadmap_item_approval_roadmap_item_id_approved_at_id"))
    op.drop_table("roadmap_item_approval")
    # A plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 has it): a batch copy of roadmap_item
    # would DROP a table that stories and insights reference, which foreign keys refuse.
    op.drop_column("roadmap_item", "approval_status")
