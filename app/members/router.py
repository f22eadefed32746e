from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from app.api.deps import Context
from app.members import service
from app.members.schemas import MemberAdd, MemberOut, MeOut

router = APIRouter(tags=["members"])
Subject = Annotated[str, Path(min_length=1, max_length=255)]


@router.get("/me", response_model=MeOut)
async def get_me(ctx: Context) -> MeOut:
    """The calling principal."""
    return await service.me(ctx)


@router.get("/products/{product_id}/members", response_model=list[MemberOut])
async def list_members(ctx: Context, product_id: uuid.UUID) -> list[MemberOut]:
    """List a product's members."""
    rows = await service.list_members(ctx, product_id)
    return [MemberOut.model_validate(m) for m in rows]


@router.post("/products/{product_id}/members", response_model=MemberOut, status_code=201)
async def add_member(ctx: Context, product_id: uuid.UUID, body: MemberAdd) -> MemberOut:
    """Add a member to a product."""
    return MemberOut.model_validate(await service.add_member(ctx, product_id, body.subject))


@router.delete("/products/{product_id}/members/{subject}", status_code=204)
async def remove_member(ctx: Context, product_id: uuid.UUID, subject: Subject) -> Response:
    """Remove a member from a product."""
    await service.remove_member(ctx, product_id, subject)
    return Response(status_code=204)
