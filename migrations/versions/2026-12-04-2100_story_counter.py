"""story numbers from a `story_counter` table instead of `product.story_seq`

Each product's last story number moves to a narrow table of its own, keyed by product id
and with no foreign key, so that on PostgreSQL the app can take a number in a short
transaction of its own (app/products/repository.py: `next_story_number`) instead of holding
the product row locked until the story's transaction commits, which queued every concurrent
writer of a product behind the previous one (bench/README.md, "Change-feed outbox cost").

Revision ID: 5b7f0c2d9e41
Revises: 3e8d51c0a7f2
Create Date: 2026-12-04 21:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b7f0c2d9e41"
down_revision: str | None = "3e8d51c0a7f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _drop_story_seq() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite (3.35+) drops an unconstrained column in place; a batch copy would rebuild
        # `product`, which other tables reference.
        op.execute("ALTER TABLE product DROP COLUMN story_seq")
    else:
        op.drop_column("product", "story_seq")


def upgrade() -> None:
    op.create_table(
        "story_counter",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_story_counter")),
    )
    op.execute(
        "INSERT INTO story_counter (product_id, last_number) "
        "SELECT id, story_seq FROM product WHERE story_seq > 0"
    )
    _drop_story_seq()


def downgrade() -> None:
    with op.batch_alter_table("product") as batch_op:
        batch_op.add_column(
            sa.Column("story_seq", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE product SET story_seq = (SELECT last_number FROM story_counter "
        "WHERE story_counter.product_id = product.id) "
        "WHERE id IN (SELECT product_id FROM story_counter)"
    )
    op.drop_table("story_counter")
