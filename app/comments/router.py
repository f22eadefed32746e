# No `from __future__ import annotations`: the routes are made per parent in a function,
# and FastAPI must see the parent reference type itself, not its name.

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from app.api.deps import Context
from app.api.params import IfMatch
from app.api.responses import (
    HistoryQuery,
    Paginated,
    location,
    page_response,
    resource_response,
)
from app.comments import service
from app.comments.schemas import CommentInput, CommentOut, CommentRevisionOut, CommentWriteOut

router = APIRouter(tags=["comments"])
# The path parameters are named as on the parents' own routes (story_ref, item_id).
StoryRef = Annotated[
    str, Path(alias="story_ref", max_length=64, description="Story id or key, e.g. SEPS-12")
]
ItemRef = Annotated[uuid.UUID, Path(alias="item_id", description="Roadmap item id")]


class CommentList(Paginated[CommentOut]):
    pass


class CommentRevisionList(Paginated[CommentRevisionOut]):
    pass


# `Ref` is the path parameter's annotated type, chosen per parent at run time (a story by id
# or key, a roadmap item by id): hence the `type: ignore[valid-type]` where it annotates.
def _routes(collection: str, parent: service.Parent, Ref: object, name: str, noun: str) -> None:
    base = f"/{collection}/{{{name}}}/comments"

    @router.get(base, response_model=CommentList, name=f"list_{parent}_comments")
    async def list_comments(
        request: Request,
        ctx: Context,
        ref: Ref,  # type: ignore[valid-type]
        query: HistoryQuery,
    ) -> Response:
        page = await service.list_comments(ctx, parent, ref, query)
        return page_response(request, page, CommentOut)

    list_comments.__doc__ = f"List the comments on a {noun}, oldest first."

    @router.post(
        base,
        response_model=CommentWriteOut,
        status_code=201,
        name=f"create_{parent}_comment",
    )
    async def create_comment(
        request: Request,
        ctx: Context,
        ref: Ref,  # type: ignore[valid-type]
        body: CommentInput,
    ) -> Response:
        written = await service.create_comment(ctx, parent, ref, body)
        # The comment's own URL (PATCH and DELETE it there).
        where = location(request, written.id)
        return resource_response(written, CommentWriteOut, status=201, location=where)

    create_comment.__doc__ = (
        f"Comment on a {noun}; identifiers are redacted before storing (see `warning`)."
    )

    @router.patch(
        base + "/{comment_id}",
        response_model=CommentWriteOut,
        name=f"update_{parent}_comment",
    )
    async def update_comment(
        ctx: Context,
        ref: Ref,  # type: ignore[valid-type]
        comment_id: uuid.UUID,
        body: CommentInput,
        if_match: IfMatch = None,
    ) -> Response:
        written = await service.update_comment(
            ctx, parent, ref, comment_id, body, if_match=if_match
        )
        return resource_response(written, CommentWriteOut)

    update_comment.__doc__ = "Edit your own comment (the previous text is kept)."

    @router.delete(
        base + "/{comment_id}", response_model=CommentOut, name=f"delete_{parent}_comment"
    )
    async def delete_comment(
        ctx: Context,
        ref: Ref,  # type: ignore[valid-type]
        comment_id: uuid.UUID,
        if_match: IfMatch = None,
    ) -> Response:
        comment = await service.delete_comment(ctx, parent, ref, comment_id, if_match=if_match)
        return resource_response(comment, CommentOut)

    delete_comment.__doc__ = "Delete (archive) your own comment."


@router.get("/comments/{comment_id}/revisions", response_model=CommentRevisionList)
async def list_comment_revisions(ctx: Context, comment_id: uuid.UUID) -> Response:
    """A comment's earlier texts, oldest first (for whoever may read what it is on)."""
    rows = await service.revisions(ctx, comment_id)
    body = CommentRevisionList(
        data=[CommentRevisionOut.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=None,
    )
    return Response(body.model_dump_json(), media_type="application/json")


_routes("stories", "story", StoryRef, "story_ref", "story")
_routes("roadmap-items", "roadmap_item", ItemRef, "item_id", "roadmap item")
