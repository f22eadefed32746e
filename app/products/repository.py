from __future__ import annotations

import uuid

from sqlalchemy import Select, select

from app.core.pagination import Page
from app.core.repository import ListQuery, Repository, dialect_insert
from app.products.models import Product, StoryCounter


class ProductRepository(Repository[Product]):
    model = Product
    sortable = ("key", "name", "created_at", "updated_at", "lifecycle_stage")
    default_sort = "key"

    def filtered(
        self, *, include_archived: bool = False, lifecycle_stage: str | None = None
    ) -> Select:
        stmt = self.base(include_archived=include_archived)
        if lifecycle_stage is not None:
            stmt = stmt.where(Product.lifecycle_stage == lifecycle_stage)
        return stmt

    async def list(self, query: ListQuery, *, lifecycle_stage: str | None = None) -> Page[Product]:
        return await self.page_filtered(query, lifecycle_stage=lifecycle_stage)

    async def id_for(self, ref: uuid.UUID | str) -> uuid.UUID | None:
        """The id of the product a person named by id or by key (e.g. SEPSIS); None if none."""
        if isinstance(ref, uuid.UUID):
            return ref
        return await self.session.scalar(select(Product.id).where(Product.key == ref))

    async def key_exists(self, key: str) -> bool:
        return (await self.session.scalar(select(Product.id).where(Product.key == key))) is not None

    async def by_key(self, key: str) -> Product | None:
        return await self.session.scalar(select(Product).where(Product.key == key))

    async def jira_project_taken(self, jira_key: str, *, except_id: object) -> bool:
        stmt = select(Product.id).where(
            Product.jira_project_key == jira_key, Product.id != except_id
        )
        return (await self.session.scalar(stmt)) is not None

    async def by_jira_project(self, jira_key: str) -> Product | None:
        """The product linked to a Jira project (archived ones included: callers decide)."""
        stmt = select(Product).where(Product.jira_project_key == jira_key)
        return await self.session.scalar(stmt)

    async def next_story_number(self, product: Product) -> int:
        """Take the product's next story number (never reused; a story that then fails to be
        created leaves a gap).

        With the session's numbers engine (PostgreSQL, app sessions) the upsert commits at once
        in a transaction of its own: the counter row is locked for one statement, not until
        the story's transaction commits, which queued every concurrent writer of a product
        behind the one before it. Otherwise it runs in the session's transaction."""
        table = StoryCounter.__table__
        stmt = (
            dialect_insert(self.session, table)
            .values(product_id=product.id, last_number=1)
            .on_conflict_do_update(
                index_elements=[table.c.product_id],
                set_={"last_number": table.c.last_number + 1},
            )
            .returning(table.c.last_number)
        )
        numbers = self.session.info.get("numbers")
        if numbers is not None:
            async with numbers.connect() as conn:
                return (await conn.execute(stmt)).scalar_one()
        return (await self.session.execute(stmt)).scalar_one()
