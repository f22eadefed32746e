"""Search across stories, roadmap items, insights and interviews (SPEC §12)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from app.authz import Permission, Reach, reach
from app.core.context import Ctx
from app.core.errors import Invalid
from app.core.pagination import Page, SortSpec, decode_cursor, encode_cursor
from app.search.index import TYPES
from app.search.repository import Hit, Scope, SearchRepository, terms

READ = {
    "story": Permission.story_read,
    "roadmap_item": Permission.roadmap_read,
    "insight": Permission.insight_read,
    "interview": Permission.interview_read,
}
_ORDER = SortSpec("score", True)
MAX_QUERY = 200


def parse_types(raw: str | Sequence[str] | None) -> tuple[str, ...]:
    """`types=story,roadmap_item` (or a list); all types when absent. Exactly the published
    shape (TYPES_PARAMETER): names separated by commas, no blanks, no empty items."""
    if raw is None:
        return TYPES
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    if not items or any(t not in TYPES for t in items):
        raise Invalid(
            "types must be a comma-separated list of: " + ", ".join(TYPES) + ".",
            errors=[{"loc": ["query", "types"], "msg": "unknown type"}],
        )
    return tuple(dict.fromkeys(items))


# The OpenAPI form of `types`: an array of the searchable resources, sent comma-separated
# (style form, explode false), so generated clients offer exactly the names parse_types takes.
TYPES_PARAMETER = {
    "name": "types",
    "in": "query",
    "required": False,
    "style": "form",
    "explode": False,
    "description": "Resources to search, comma-separated (default: all)",
    "schema": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(TYPES)}},
}


async def _scope(ctx: Ctx, types: Sequence[str], product_id: uuid.UUID | None) -> Scope:
    """Per type: every product (None) or the member products whose rows may be read; types
    the caller may not read at all are left out, so they are never even matched."""
    scope: dict[str, frozenset[uuid.UUID] | None] = {}
    for type_ in types:
        r = reach(ctx.principal, READ[type_])
        if r is None:
            continue
        if r is Reach.any:
            scope[type_] = None
            continue
        members = await ctx.memberships()  # interview/insight reads reach member products
        if product_id is not None:
            members = members & {product_id}
        if members:
            scope[type_] = frozenset(members)
    return scope


async def search(
    ctx: Ctx,
    query: str,
    *,
    types: Sequence[str] = TYPES,
    product_id: uuid.UUID | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> Page[Hit]:
    """Ranked full-text hits with a highlighted snippet, keyset-paginated (score, id).
    Interviews and insights match on their redacted text only; rows the caller may not
    read are excluded inside the statement (no count or rank reveals them)."""
    if len(query) > MAX_QUERY:
        raise Invalid(
            f"q is longer than {MAX_QUERY} characters.",
            errors=[{"loc": ["query", "q"], "msg": "too long"}],
        )
    # Words are letters and digits; a query of none (only punctuation) matches nothing.
    words = terms(query)
    after = None
    if cursor:
        score, last = decode_cursor(cursor, _ORDER)
        if not isinstance(score, int | float) or isinstance(score, bool):
            raise Invalid(
                "The cursor is invalid or belongs to another query.",
                errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor"}],
            )
        after = (float(score), last)
    scope = await _scope(ctx, types, product_id)
    hits = await SearchRepository(ctx.session).search(
        words, scope, product_id=product_id, after=after, limit=limit + 1
    )
    next_cursor = None
    if len(hits) > limit:
        hits = hits[:limit]
        next_cursor = encode_cursor(_ORDER, hits[-1].score, hits[-1].id)
    for type_ in types:
        ids = [h.id for h in hits if h.type == type_]
        if ids:
            ctx.audit.touch("search", type_, ids, product_id=product_id)
    if not hits:
        ctx.audit.touch("search", types[0], (), product_id=product_id)
    return Page(hits, next_cursor)
