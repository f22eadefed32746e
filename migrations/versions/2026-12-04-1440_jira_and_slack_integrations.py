"""jira and slack integrations

Products link to a Jira project (`jira_project_key`, unique) with a status map; stories keep
the outcome of the last Jira delivery (`jira_sync`); Jira delivery ids for idempotency;
Slack account links and the hashed one-time codes of `/rounds link`.

Revision ID: 7c1e2a9d4b10
Revises: 7c1e5a2f9b40
Create Date: 2026-12-04 14:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c1e2a9d4b10"
down_revision: str | Sequence[str] | None = "7c1e5a2f9b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN and a unique index, no batch table copy: on SQLite a copy of product
    # (or story) would DROP a table that others reference, which foreign keys refuse.
    op.add_column("product", sa.Column("jira_project_key", sa.String(length=32), nullable=True))
    op.add_column(
        "product",
        sa.Column("jira_status_map", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )
    op.create_index(
        op.f("ix_product_jira_project_key"), "product", ["jira_project_key"], unique=True
    )
    op.add_column("story", sa.Column("jira_sync", sa.JSON(), nullable=True))

    op.create_table(
        "jira_delivery",
        sa.Column("delivery_id", sa.String(length=128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("issue_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_jira_delivery")),
    )
    with op.batch_alter_table("jira_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_jira_delivery_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "slack_link",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_slack_link")),
    )
    with op.batch_alter_table("slack_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slack_link_subject"), ["subject"], unique=False)

    op.create_table(
        "slack_link_code",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_slack_link_code")),
    )
    with op.batch_alter_table("slack_link_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_slack_link_code_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("slack_link_code")
    op.drop_table("slack_link")
    op.drop_table("jira_delivery")
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35), for the reason given in upgrade().
    op.drop_column("story", "jira_sync")
    op.drop_index(op.f("ix_product_jira_project_key"), table_name="product")
    op.drop_column("product", "jira_status_map")
    op.drop_column("product", "jira_project_key")
