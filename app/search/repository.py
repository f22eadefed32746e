"""Full-text search SQL: one ranked, permission-filtered statement per dialect."""

# ruff: noqa: S608  (SQL is assembled from this package's constants; values are bound)

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.search.index import DOCUMENTS, FTS_TABLE, PG_TABLE

# What a type's rows may be read as: every product (None) or only these products.
Scope = Mapping[str, frozenset[uuid.UUID] | None]

# Matches are wrapped in ** (Markdown emphasis): plain text a client may render as is,
# unlike HTML marks around text that is itself user input.
MARK = "**"
TITLE_WEIGHT, BODY_WEIGHT = 10.0, 1.0
CANDIDATES = 1000
FUZZY_LIMIT = 5000
HEADLINE = (
    f'StartSel="{MARK}", StopSel="{MARK}", MaxWords=24, MinWords=8, MaxFragments=1, '
    'FragmentDelimiter=" … "'
)


@dataclass(frozen=True, slots=True)
class Hit:
    type: str
    id: uuid.UUID
    product_id: uuid.UUID
    title: str
    snippet: str
    score: float


def terms(query: str) -> list[str]:
    """The words of a query (letters and digits), lower-cased, at most 16."""
    return [t.lower() for t in re.findall(r"[^\W_]+", query)][:16]


class SearchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def search(
        self,
        words: Sequence[str],
        scope: Scope,
        *,
        product_id: uuid.UUID | None,
        after: tuple[float, uuid.UUID] | None,
        limit: int,
    ) -> list[Hit]:
        """Up to `limit` hits, best first (score, then id), after the cursor position. Only
        rows of `scope` are ever matched: the permission filter is part of the statement."""
        if not words or not scope:
            return []
        if self.dialect == "postgresql":
            return await self._pg(words, scope, product_id, after, limit)
        return await self._sqlite(words, scope, product_id, after, limit)

    @staticmethod
    def _where(
        type_: str, scope: Scope, product_id: uuid.UUID | None, params: dict, col: str
    ) -> str:
        conds = [f"{col}archived_at IS NULL"]
        if type_ == "interview":
            conds.append(f"{col}purged_at IS NULL")
        if product_id is not None:
            conds.append(f"{col}product_id = :product_id")
        allowed = scope[type_]
        if allowed is not None:
            names = []
            for n, pid in enumerate(sorted(allowed)):
                params[f"{type_}_p{n}"] = pid
                names.append(f":{type_}_p{n}")
            conds.append(f"{col}product_id IN ({', '.join(names)})")
        return " AND ".join(conds)

    async def _pg(self, words, scope, product_id, after, limit) -> list[Hit]:
        params: dict = {"limit": limit, "cap": CANDIDATES}
        parts = []
        for n, w in enumerate(words):
            params[f"w{n}"] = f"{w}:*"
            parts.append(f"(to_tsquery('english', :w{n}) || to_tsquery('simple', :w{n}))")
        tsq = f"({' && '.join(parts)})"
        if product_id is not None:
            params["product_id"] = product_id
        branches = []
        for type_ in scope:
            conds = [f"type = '{type_}'", "live", f"vector @@ {tsq}"]
            if product_id is not None:
                conds.append("product_id = :product_id")
            allowed = scope[type_]
            if allowed is not None:
                params[f"{type_}_products"] = list(allowed)
                conds.append(f"product_id = ANY(:{type_}_products)")
            # At most CANDIDATES matches per type are ranked: a word in most documents
            # (a stopword of this corpus) cannot make one search rank them all.
            branches.append(
                f"(SELECT type, id, product_id, ts_rank(vector, {tsq})::float8 AS score "
                f"FROM (SELECT * FROM {PG_TABLE} WHERE {' AND '.join(conds)} LIMIT :cap) c)"
            )
        cursor = ""
        if after is not None:
            params["c_score"], params["c_id"] = after
            cursor = "WHERE score < :c_score OR (score = :c_score AND id > :c_id)"
        sql = (
            f"SELECT * FROM ({' UNION ALL '.join(branches)}) hits {cursor} "
            "ORDER BY score DESC, id LIMIT :limit"
        )
        # A word in most documents would make the GIN scan build a bitmap of them all before
        # any LIMIT applies; this bounds that set (PostgreSQL picks a sample of it), for this
        # statement's connection only, and is reset before the connection is used again.
        await self.session.execute(text(f"SET gin_fuzzy_search_limit = {FUZZY_LIMIT}"))
        try:
            rows = (await self.session.execute(text(sql), params)).all()
        finally:
            await self.session.execute(text("RESET gin_fuzzy_search_limit"))
        # titles and highlighted snippets for the page only
        shown: dict[uuid.UUID, tuple[str, str]] = {}
        for type_ in {r.type for r in rows}:
            table, title, body = DOCUMENTS[type_]
            ids = [r.id for r in rows if r.type == type_]
            found = await self.session.execute(
                text(
                    f"SELECT id, {title} AS title, ts_headline('english', "
                    f"coalesce(nullif({body}, ''), {title}), {tsq}, '{HEADLINE}') AS snippet "
                    f"FROM {table} WHERE id = ANY(:ids)"
                ),
                {**{k: v for k, v in params.items() if k.startswith("w")}, "ids": ids},
            )
            shown.update({f.id: (f.title, f.snippet) for f in found})
        return [Hit(r.type, r.id, r.product_id, *shown.get(r.id, ("", "")), r.score) for r in rows]

    async def _sqlite(self, words, scope, product_id, after, limit) -> list[Hit]:
        match = "{title body} : (" + " AND ".join(f'"{w}"*' for w in words) + ")"
        params: dict = {"match": match, "limit": limit}
        if product_id is not None:
            params["product_id"] = product_id
        branches = []
        for type_ in scope:
            table = DOCUMENTS[type_][0]
            where = self._where(type_, scope, product_id, params, "t.")
            branches.append(
                f"SELECT {FTS_TABLE}.type AS type, t.id AS id, t.product_id AS product_id, "
                f"t.title AS title, -bm25({FTS_TABLE}, {TITLE_WEIGHT}, {BODY_WEIGHT}, 0.0) "
                f"AS score, snippet({FTS_TABLE}, -1, '{MARK}', '{MARK}', ' … ', 16) AS snippet "
                f"FROM {FTS_TABLE} JOIN {table} t ON t.id = {FTS_TABLE}.ref "
                f"WHERE {FTS_TABLE} MATCH :match AND {FTS_TABLE}.type = '{type_}' AND {where}"
            )
        for key, value in list(params.items()):  # ids are stored as 32 hex digits
            if isinstance(value, uuid.UUID):
                params[key] = value.hex
        cursor = ""
        if after is not None:
            params["c_score"], params["c_id"] = after[0], after[1].hex
            cursor = "WHERE score < :c_score OR (score = :c_score AND id > :c_id)"
        sql = (
            f"SELECT * FROM ({' UNION ALL '.join(branches)}) {cursor} "
            "ORDER BY score DESC, id LIMIT :limit"
        )
        rows = (await self.session.execute(text(sql), params)).all()
        return [
            Hit(r.type, uuid.UUID(r.id), uuid.UUID(r.product_id), r.title, r.snippet, r.score)
            for r in rows
        ]
