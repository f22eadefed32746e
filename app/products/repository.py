from __future__ import annotations

import uuid

from sqlalchemy import Select, select, update

from app.core.pagination import Page
from app.core.repository import ListQuery, Repository
from app.products.models import Product


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
        """Atomically take the next story number (an UPDATE takes the row lock on PostgreSQL).

        Only `story_seq` changes: `updated_at` is kept as it is (naming it stops its onupdate),
        so a new story does not count as a change of its product, and the update touches no
        indexed column and stays a HOT update on PostgreSQL (before, every story rewrote the
        product row with a new entry in each of its indexes)."""
        number = await self.session.scalar(
            update(Product)
            .where(Product.id == product.id)
            .values(story_seq=Product.story_seq + 1, updated_at=Product.updated_at)
            .returning(Product.story_seq)
        )
        assert number is not None
        return number
