"""Comments on stories and roadmap items (SPEC §12): PHI-scanned and stored redacted (the
raw text is never stored), mentions of product members, edit history, delete archives."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from typing import Any, Literal

from sqlalchemy import select

from app.authz import Permission, authorize
from app.comments.models import Comment, CommentRevision
from app.comments.repository import CommentRepository
from app.comments.schemas import CommentInput
from app.core.context import Ctx
from app.core.errors import Forbidden, NotFound
from app.core.pagination import Page
from app.core.repository import ListQuery, archive, bump, check_if_match, save
from app.members.models import Membership
from app.phi.redaction import scan_fields
from app.roadmap.service import get_roadmap_item
from app.stories.service import get_story

RESOURCE = "comment"
Parent = Literal["story", "roadmap_item"]
_ATTR = {"story": "story_id", "roadmap_item": "roadmap_item_id"}
# @subject: a subject is whatever the identity provider issues; a mention ends at whitespace,
# and trailing sentence punctuation is not part of it.
_MENTION = re.compile(r"(?<![\w@])@(\S+)")
_TRAILING = ".,;:!?)]}'\""


class Written:
    """A comment as written, and the categories redacted from the text that was sent."""

    def __init__(self, comment: Comment, redacted: tuple[str, ...]) -> None:
        self.comment = comment
        self.redacted = redacted

    def __getattr__(self, name: str) -> Any:  # the comment's fields, for the output model
        return getattr(self.comment, name)

    @property
    def warning(self) -> dict[str, Any] | None:
        if not self.redacted:
            return None
        return {
            "code": "phi_redacted",
            "categories": list(self.redacted),
            "detail": "The text contained identifiers ("
            + ", ".join(self.redacted)
            + "); they were redacted and only the redacted text was stored.",
        }


async def _parent(ctx: Ctx, parent: Parent, ref: uuid.UUID | str) -> tuple[uuid.UUID, uuid.UUID]:
    """(parent id, product id) of a parent the caller may read; 404 otherwise."""
    if parent == "story":
        story = await get_story(ctx, ref, audit=False)
        return story.id, story.product_id
    item_id = ref if isinstance(ref, uuid.UUID) else _uuid(ref, "No roadmap item with that id.")
    item = await get_roadmap_item(ctx, item_id, audit=False)
    return item.id, item.product_id


def _uuid(value: str, missing: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(missing) from None


async def _mentions(ctx: Ctx, product_id: uuid.UUID, text: str) -> list[str]:
    """Subjects mentioned as @subject that are members of the product, in order of first
    mention (anything else after an @ is just text)."""
    wanted = list(dict.fromkeys(m.rstrip(_TRAILING) for m in _MENTION.findall(text)))
    wanted = [w for w in wanted if w and len(w) <= 255][:50]
    if not wanted:
        return []
    rows = await ctx.session.scalars(
        select(Membership.subject).where(
            Membership.product_id == product_id, Membership.subject.in_(wanted)
        )
    )
    members = set(rows)
    return [w for w in wanted if w in members]


def _scan(text: str) -> tuple[str, tuple[str, ...]]:
    scan = scan_fields({"body": text})
    return scan.redacted["body"] or "", scan.categories


async def list_comments(
    ctx: Ctx, parent: Parent, ref: uuid.UUID | str, query: ListQuery
) -> Page[Comment]:
    """A story's or roadmap item's comments, oldest first, for whoever may read it."""
    parent_id, product_id = await _parent(ctx, parent, ref)
    page = await CommentRepository(ctx.session).of(_ATTR[parent], parent_id, query)
    ctx.audit.touch("search", RESOURCE, [c.id for c in page.items], product_id=product_id)
    return page


async def create_comment(
    ctx: Ctx, parent: Parent, ref: uuid.UUID | str, data: CommentInput
) -> Written:
    """Comment on a story or roadmap item (members of its product; execs anywhere)."""
    parent_id, product_id = await _parent(ctx, parent, ref)
    await ctx.authorize(Permission.comment_write, product_id=product_id)
    body, categories = _scan(data.body)
    comment = Comment(
        product_id=product_id,
        author_sub=ctx.principal.sub,
        body=body,
        phi_categories=list(categories),
        mentions=await _mentions(ctx, product_id, data.body),
        **{_ATTR[parent]: parent_id},
    )
    await CommentRepository(ctx.session).add(comment)
    ctx.audit.touch("create", RESOURCE, [comment.id], product_id=product_id, changed=["body"])
    return Written(comment, categories)


async def _own_comment(
    ctx: Ctx, parent: Parent, ref: uuid.UUID | str, comment_id: uuid.UUID
) -> Comment:
    parent_id, product_id = await _parent(ctx, parent, ref)
    comment = await CommentRepository(ctx.session).find(comment_id, _ATTR[parent], parent_id)
    if comment is None:
        raise NotFound("No comment with that id here.")
    await ctx.authorize(Permission.comment_write, product_id=product_id)
    if comment.author_sub != ctx.principal.sub:
        raise Forbidden("Only the author may change or delete a comment.")
    return comment


async def update_comment(
    ctx: Ctx,
    parent: Parent,
    ref: uuid.UUID | str,
    comment_id: uuid.UUID,
    data: CommentInput,
    *,
    if_match: str | None = None,
) -> Written:
    """Edit your own comment; the previous text is kept as a revision."""
    comment = await _own_comment(ctx, parent, ref, comment_id)
    check_if_match(comment, if_match)
    body, categories = _scan(data.body)
    if body != comment.body:
        ctx.session.add(
            CommentRevision(comment_id=comment.id, version=comment.version, body=comment.body)
        )
        comment.body = body
        comment.phi_categories = list(categories)
        comment.mentions = await _mentions(ctx, comment.product_id, data.body)
        bump(comment)
        await save(ctx.session, comment)
        ctx.audit.touch(
            "update", RESOURCE, [comment.id], product_id=comment.product_id, changed=["body"]
        )
    else:
        ctx.audit.touch("update", RESOURCE, [comment.id], product_id=comment.product_id)
    return Written(comment, categories)


async def delete_comment(
    ctx: Ctx,
    parent: Parent,
    ref: uuid.UUID | str,
    comment_id: uuid.UUID,
    *,
    if_match: str | None = None,
) -> Comment:
    """Archive your own comment (it leaves the lists; the row and its history stay)."""
    comment = await _own_comment(ctx, parent, ref, comment_id)
    check_if_match(comment, if_match)
    changed = archive(comment)
    await save(ctx.session, comment)
    ctx.audit.touch(
        "delete", RESOURCE, [comment.id], product_id=comment.product_id, changed=changed
    )
    return comment


async def revisions(ctx: Ctx, comment_id: uuid.UUID) -> list[CommentRevision]:
    """A comment's earlier texts (redacted as stored), oldest first, for whoever may read
    the story or roadmap item it is on."""
    repo = CommentRepository(ctx.session)
    comment = await repo.get(comment_id)
    if comment is None or comment.archived_at is not None:
        raise NotFound("No comment with that id.")
    if comment.story_id is not None:
        await _parent(ctx, "story", comment.story_id)
    else:
        assert comment.roadmap_item_id is not None  # on a story or an item (a CHECK says so)
        await _parent(ctx, "roadmap_item", comment.roadmap_item_id)
    ctx.audit.touch("read", RESOURCE, [comment.id], product_id=comment.product_id)
    return await repo.revisions(comment.id)


async def count_comments_by(
    ctx: Ctx, parent: Parent, parent_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many (unarchived) comments each story or roadmap item has, in one statement."""
    authorize(
        ctx.principal, Permission.story_read if parent == "story" else Permission.roadmap_read
    )
    repo = CommentRepository(ctx.session)
    return await repo.count_by(repo.base(), getattr(Comment, _ATTR[parent]), parent_ids)


async def comments_by(
    ctx: Ctx, parent: Parent, parent_ids: Collection[uuid.UUID], query: ListQuery
) -> dict[uuid.UUID, Page[Comment]]:
    """One page of comments per (already readable) story or roadmap item, in one statement."""
    authorize(
        ctx.principal, Permission.story_read if parent == "story" else Permission.roadmap_read
    )
    pages = await CommentRepository(ctx.session).pages_of(_ATTR[parent], parent_ids, query)
    ctx.audit.touch("search", RESOURCE, [c.id for p in pages.values() for c in p.items])
    return pages
