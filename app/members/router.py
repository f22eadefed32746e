from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from app.api.deps import Context
from app.api.responses import Paginated, location, page_response
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.members import service
from app.members.schemas import MemberAdd, MemberOut, MeOut
from app.products.params import ProductPath

router = APIRouter(tags=["members"])
# `{subject:path}`: subjects may contain "/" (e.g. "oidc/alice"); percent-encode the rest.
PathSubject = Annotated[
    str, Path(min_length=1, max_length=255, pattern=r"^\S(?:.*\S)?$", description="Subject")
]


class MemberList(Paginated[MemberOut]):
    pass


@router.get("/me", response_model=MeOut)
async def get_me(ctx: Context) -> MeOut:
    """The calling principal."""
    return await service.me(ctx)


@router.get("/products/{product_id}/members", response_model=MemberList)
async def list_members(
    request: Request,
    ctx: Context,
    product_id: ProductPath,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size"),
    cursor: str | None = Query(None, max_length=2048, description="From next_cursor"),
) -> Response:
    """List a product's members, oldest first."""
    page = await service.list_members(ctx, product_id, limit=limit, cursor=cursor)
    return page_response(request, page, MemberOut)


@router.post("/products/{product_id}/members", response_model=MemberOut, status_code=201)
async def add_member(
    request: Request, response: Response, ctx: Context, product_id: ProductPath, body: MemberAdd
) -> MemberOut:
    """Add a member to a product."""
    member = MemberOut.model_validate(await service.add_member(ctx, product_id, body.subject))
    response.headers["Location"] = location(request, member.subject)
    return member


@router.delete("/products/{product_id}/members/{subject:path}", status_code=204)
async def remove_member(ctx: Context, product_id: ProductPath, subject: PathSubject) -> Response:
    """Remove a member from a product."""
    await service.remove_member(ctx, product_id, subject)
    return Response(status_code=204)
