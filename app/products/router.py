from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.api.deps import Context
from app.api.fields import Fields, fields_query
from app.api.params import IfMatch
from app.api.responses import Paginated, list_query_for, location, page_response, resource_response
from app.core.repository import ListQuery
from app.products import service
from app.products.params import ProductPath
from app.products.repository import ProductRepository
from app.products.schemas import LifecycleStage, ProductCreate, ProductOut, ProductUpdate

router = APIRouter(prefix="/products", tags=["products"])
SortedList = Annotated[ListQuery, Depends(list_query_for(ProductRepository.sortable))]
Sparse = Annotated[Fields, Depends(fields_query(ProductOut))]


class ProductList(Paginated[ProductOut]):
    pass


@router.get("", response_model=ProductList)
async def list_products(
    request: Request,
    ctx: Context,
    query: SortedList,
    lifecycle_stage: LifecycleStage | None = None,
    fields: Sparse = None,
) -> Response:
    """List products."""
    page = await service.list_products(ctx, query, lifecycle_stage=lifecycle_stage)
    return page_response(request, page, ProductOut, fields)


@router.post("", response_model=ProductOut, status_code=201)
async def create_product(request: Request, ctx: Context, body: ProductCreate) -> Response:
    """Create a product; the creator becomes a member."""
    product = await service.create_product(ctx, body)
    return resource_response(
        product, ProductOut, status=201, location=location(request, product.id)
    )


@router.get("/{product_id}", response_model=ProductOut)
async def get_product(
    ctx: Context,
    product_id: ProductPath,
    fields: Sparse = None,
) -> Response:
    """Get a product."""
    return resource_response(await service.get_product(ctx, product_id), ProductOut, fields=fields)


@router.patch("/{product_id}", response_model=ProductOut)
async def update_product(
    ctx: Context, product_id: ProductPath, body: ProductUpdate, if_match: IfMatch = None
) -> Response:
    """Update a product."""
    product = await service.update_product(ctx, product_id, body, if_match=if_match)
    return resource_response(product, ProductOut)


@router.delete("/{product_id}", response_model=ProductOut)
async def archive_product(
    ctx: Context, product_id: ProductPath, if_match: IfMatch = None
) -> Response:
    """Archive a product."""
    product = await service.archive_product(ctx, product_id, if_match=if_match)
    return resource_response(product, ProductOut)
