"""A product as a request names it: the `{product_id}` path and `?product_id=` filter
parameters of the routers (the REST twin of GraphQL's product(id:) and productId arguments).
Here rather than in app/api, which imports no domain package."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Query

from app.api.deps import Context
from app.products import service as products
from app.products.schemas import ProductKey

# A product as a person types it: its id or its key (e.g. /products/SEPSIS, ?product_id=SEPSIS),
# resolved by the products service as GraphQL's product(id:) and productId arguments are.
ProductRef = uuid.UUID | ProductKey
PRODUCT_REF_DESCRIPTION = "Product id or key, e.g. SEPSIS"  # an unknown key matches nothing


async def product_path(
    ctx: Context,
    product_id: Annotated[ProductRef, Path(description="Product id or key, e.g. SEPSIS")],
) -> uuid.UUID:
    """The product of a /products/{product_id} path, given by id or key (404 if no key)."""
    return await products.product_id_for(ctx, product_id)


async def product_filter(
    ctx: Context,
    product_id: Annotated[ProductRef | None, Query(description=PRODUCT_REF_DESCRIPTION)] = None,
) -> uuid.UUID | None:
    """The `product_id` filter of a list, given by id or key."""
    return None if product_id is None else await products.product_filter_id(ctx, product_id)


ProductPath = Annotated[uuid.UUID, Depends(product_path)]
ProductFilter = Annotated[uuid.UUID | None, Depends(product_filter)]
