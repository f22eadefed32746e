"""Product use cases: the one implementation behind REST and GraphQL."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection

from sqlalchemy.exc import IntegrityError

from app.authz import Permission, authorize, can
from app.core.context import Ctx
from app.core.errors import Conflict, Invalid, NotFound
from app.core.jsonpages import JsonMember
from app.core.pagination import Page
from app.core.repository import (
    ListQuery,
    apply_changes,
    archive,
    check_if_match,
    save,
)
from app.phi.scan import redact_free_text
from app.products.models import Product
from app.products.repository import ProductRepository
from app.products.schemas import KEY_PATTERN, ProductCreate, ProductUpdate


async def list_products(
    ctx: Ctx, query: ListQuery, *, lifecycle_stage: str | None = None
) -> Page[Product]:
    """Products, filtered and keyset-paginated."""
    authorize(ctx.principal, Permission.product_read)
    page = await ProductRepository(ctx.session).list(query, lifecycle_stage=lifecycle_stage)
    ctx.audit.touch("search", "product", [p.id for p in page.items])
    return page


# A product as a person types it: its id or its key (/products/SEPSIS, ?product_id=SEPSIS,
# product(id: "SEPSIS")). REST parses the two forms with its ProductRef type, GraphQL with
# product_ref; both resolve them here.
ProductRef = uuid.UUID | str
NO_PRODUCT = uuid.UUID(int=0)  # a filter on a key nobody has matches nothing
_KEY = re.compile(KEY_PATTERN)


def product_ref(value: str | uuid.UUID, arg: str = "id") -> ProductRef:
    """A product id (UUID) or key (e.g. SEPSIS) as typed; 422 when it is neither."""
    if isinstance(value, uuid.UUID):
        return value
    text = str(value)
    try:
        return uuid.UUID(text)
    except ValueError:
        if _KEY.fullmatch(text):
            return text
    raise Invalid(
        f"{arg} must be a product id (UUID) or key (e.g. SEPSIS).",
        errors=[{"loc": [arg], "msg": "not a product id or key"}],
    )


async def product_id_for(ctx: Ctx, ref: ProductRef) -> uuid.UUID:
    """The id of the product named by id or key; 404 when no product has that key."""
    found = await ProductRepository(ctx.session).id_for(ref)
    if found is None:
        raise NotFound("Product not found.")
    return found


async def product_filter_id(ctx: Ctx, ref: ProductRef) -> uuid.UUID:
    """A list's product filter given by id or key (a key nobody has matches nothing)."""
    return await ProductRepository(ctx.session).id_for(ref) or NO_PRODUCT


async def get_product(ctx: Ctx, product_id: uuid.UUID, *, audit: bool = True) -> Product:
    """One product; 404 when absent or unreadable."""
    product = await ProductRepository(ctx.session).get(product_id)
    _answer(ctx, product_id, product is not None, audit=audit)
    assert product is not None
    return product


def _answer(ctx: Ctx, product_id: uuid.UUID, found: bool, *, audit: bool = True) -> None:
    """What every read of one product by id answers, whatever its form: 404 when it is
    absent or unreadable (the refusal recorded), else the read audited."""
    if not found or not can(ctx.principal, Permission.product_read):
        raise ctx.not_found("product", product_id, "No product with that id.")
    if audit:
        ctx.audit.touch("read", "product", [product_id], product_id=product_id)


async def product_json(
    ctx: Ctx, product_id: uuid.UUID, members: tuple[JsonMember, ...]
) -> str | None:
    """`get_product` rendered as JSON text by the database (PostgreSQL), with the pages nested
    in it (see `Repository.json_pages_by`); the same 404, permission and audit. None when
    the row must be read instead."""
    found = await ProductRepository(ctx.session).json_pages_by(
        ListQuery(limit=1, include_archived=True),  # like get(): archived products answer
        Product.id,
        [product_id],
        members,
    )
    if found is None:
        return None
    _answer(ctx, product_id, product_id in found.pages)
    found.touch_nested()
    return found.pages[product_id][0][1:-1]  # the page of one: '[{…}]' -> '{…}'


async def create_product(ctx: Ctx, data: ProductCreate) -> Product:
    """Create a product; its creator becomes a member. 409 on a duplicate key."""
    authorize(ctx.principal, Permission.product_create)
    data = await redact_free_text(ctx.settings, ctx.audit, "product", data)
    repo = ProductRepository(ctx.session)
    if await repo.key_exists(data.key):
        raise Conflict("A product with that key already exists.")
    values = data.model_dump()
    product = Product(**values, created_by=ctx.principal.sub)
    try:
        await repo.add(product)
    except IntegrityError as exc:  # a concurrent create won the key
        raise Conflict("A product with that key already exists.") from exc
    await ctx.join_created_product(product.id)
    ctx.audit.touch(
        "create", "product", [product.id], product_id=product.id, changed=sorted(values)
    )
    return product


async def update_product(
    ctx: Ctx, product_id: uuid.UUID, data: ProductUpdate, *, if_match: str | None = None
) -> Product:
    """Patch a product (members with update rights); 412 on a stale If-Match."""
    product = await get_product(ctx, product_id, audit=False)
    await ctx.authorize(Permission.product_update, product_id=product.id)
    check_if_match(product, if_match)
    data = await redact_free_text(ctx.settings, ctx.audit, "product", data)
    changes = data.changes()
    jira_key = changes.get("jira_project_key")
    repo = ProductRepository(ctx.session)
    if jira_key and await repo.jira_project_taken(jira_key, except_id=product.id):
        raise Conflict("Another product is already linked to that Jira project.")
    changed = apply_changes(product, changes)
    try:
        await save(ctx.session, product)
    except IntegrityError as exc:  # a concurrent update linked the same Jira project
        raise Conflict("Another product is already linked to that Jira project.") from exc
    ctx.audit.touch("update", "product", [product.id], product_id=product.id, changed=changed)
    return product


async def archive_product(
    ctx: Ctx, product_id: uuid.UUID, *, if_match: str | None = None
) -> Product:
    """Archive (soft-delete) a product."""
    product = await get_product(ctx, product_id, audit=False)
    await ctx.authorize(Permission.product_update, product_id=product.id)
    check_if_match(product, if_match)
    changed = archive(product)
    await save(ctx.session, product)
    ctx.audit.touch("delete", "product", [product.id], product_id=product.id, changed=changed)
    return product


async def count_products(
    ctx: Ctx, *, include_archived: bool = False, lifecycle_stage: str | None = None
) -> int:
    """How many products a list with these filters spans (GraphQL totalCount)."""
    authorize(ctx.principal, Permission.product_read)
    repo = ProductRepository(ctx.session)
    return await repo.count(
        repo.filtered(include_archived=include_archived, lifecycle_stage=lifecycle_stage)
    )


async def products_by_ids(ctx: Ctx, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Product]:
    """The readable products among `ids`, in one statement (nested GraphQL edges)."""
    if not ids or not can(ctx.principal, Permission.product_read):
        return {}
    rows = await ProductRepository(ctx.session).by_ids(ids)
    ctx.audit.touch("read", "product", [p.id for p in rows])
    return {p.id: p for p in rows}
