from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.api.deps import Context
from app.api.fields import Fields, fields_query
from app.api.resources import ResourceRoutes
from app.api.responses import Paginated, list_query_for, page_response
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


one = ResourceRoutes(router, "/{product_id}", ProductPath, ProductOut)
one.create(ProductCreate, service.create_product, "Create a product; the creator becomes a member.")
one.read(service.get_product, "Get a product.")
one.update(ProductUpdate, service.update_product, "Update a product.")
one.archive(service.archive_product, "Archive a product.")
