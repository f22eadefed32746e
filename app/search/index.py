"""The full-text documents of each searchable resource, as SQL both the migration (indexes,
triggers) and the queries use — a PostgreSQL expression index is used only when the query
repeats its expression exactly, so there is one definition.

Interviews and insights are indexed by their redacted renditions only (`*_redacted`): the
PHI columns are encrypted at rest and never reach an index, so a participant's name or a
quote's identifiers cannot be found by search, whoever searches.
"""

# ruff: noqa: S608  (SQL is assembled from this package's constants; values are bound)

from __future__ import annotations

import re

# type -> (table, title expression, body expression); plain SQL over the table's columns.
DOCUMENTS: dict[str, tuple[str, str, str]] = {
    "story": (
        "story",
        "title",
        "key || ' ' || coalesce(as_a, '') || ' ' || coalesce(i_want, '') || ' ' || "
        "coalesce(so_that, '') || ' ' || coalesce(description, '')",
    ),
    "roadmap_item": (
        "roadmap_item",
        "title",
        "coalesce(theme, '') || ' ' || coalesce(description, '')",
    ),
    "insight": ("insight", "title", "coalesce(quote_redacted, '')"),
    "interview": (
        "interview",
        "title",
        "coalesce(summary_redacted, '') || ' ' || coalesce(transcript_redacted, '')",
    ),
}
TYPES = tuple(DOCUMENTS)


def pg_vector(type_: str) -> str:
    """The weighted tsvector (title A, body B) of a row, as indexed on PostgreSQL: English
    lexemes (stemmed: `alarms` finds `alarm`) and the words as written (`simple`: the
    type-ahead prefix `escalat` finds `escalation`, whose English lexeme is `escal`)."""
    _, title, body = DOCUMENTS[type_]
    return f"({_pg_part(f'coalesce({title}, {chr(39) * 2})', 'A')} || {_pg_part(body, 'B')})"


def _pg_part(expr: str, weight: str) -> str:
    return (
        f"setweight(to_tsvector('english'::regconfig, {expr}) || "
        f"to_tsvector('simple'::regconfig, {expr}), '{weight}')"
    )


# PostgreSQL: one table of weighted vectors, filled by triggers in the writing transaction.
# Ranking needs each match's vector; an expression index cannot give it back, so it is stored
# (recomputing to_tsvector for thousands of matches took seconds at 100k stories).
PG_TABLE = "search_document"
PG_CREATE = (
    f"CREATE TABLE {PG_TABLE} (id uuid PRIMARY KEY, type varchar(16) NOT NULL, "
    "product_id uuid NOT NULL, live boolean NOT NULL, vector tsvector NOT NULL)"
)
PG_INDEX = f"CREATE INDEX ix_{PG_TABLE}_vector ON {PG_TABLE} USING gin (vector)"
# Types read on member products only are filtered by product first (without it each such
# type's branch scanned the whole table: ~16 ms at 100k stories, per type).
PG_SCOPE_INDEX = f"CREATE INDEX ix_{PG_TABLE}_type_product_id ON {PG_TABLE} (type, product_id)"


def _pg_live(type_: str, alias: str | None) -> str:
    p = f"{alias}." if alias else ""
    live = f"{p}archived_at IS NULL"
    return live + (f" AND {p}purged_at IS NULL" if type_ == "interview" else "")


def pg_fill(type_: str) -> str:
    """INSERT … SELECT of every row of one table (migration and `search reindex`)."""
    table = DOCUMENTS[type_][0]
    return (
        f"INSERT INTO {PG_TABLE} (id, type, product_id, live, vector) "
        f"SELECT id, '{type_}', product_id, {_pg_live(type_, None)}, {pg_vector(type_)} "
        f"FROM {table}"
    )


def pg_trigger(type_: str) -> tuple[str, str, list[str]]:
    """(function name, trigger name, CREATE statements) keeping search_document in step."""
    table, title, body = DOCUMENTS[type_]
    fn, trg = f"{table}_search_sync", f"trg_{table}_search"
    cols = sorted(
        {*re.findall(rf"\b({COLUMNS})\b", f"{title} {body}"), "archived_at", "product_id"}
        | ({"purged_at"} if type_ == "interview" else set())
    )
    vector = _qualify(pg_vector(type_), "NEW")
    create_fn = (
        f"CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'DELETE' THEN DELETE FROM {PG_TABLE} WHERE id = OLD.id; RETURN OLD; END IF; "
        f"INSERT INTO {PG_TABLE} (id, type, product_id, live, vector) VALUES (NEW.id, "
        f"'{type_}', NEW.product_id, {_pg_live(type_, 'NEW')}, {vector}) "
        "ON CONFLICT (id) DO UPDATE SET product_id = EXCLUDED.product_id, "
        "live = EXCLUDED.live, vector = EXCLUDED.vector; RETURN NEW; END $$"
    )
    create_trg = (
        f"CREATE TRIGGER {trg} AFTER INSERT OR DELETE OR UPDATE OF {', '.join(cols)} "
        f"ON {table} FOR EACH ROW EXECUTE FUNCTION {fn}()"
    )
    return fn, trg, [create_fn, create_trg]


COLUMNS = (
    "title|key|as_a|i_want|so_that|description|theme|quote_redacted|"
    "summary_redacted|transcript_redacted"
)


def _qualify(expr: str, alias: str) -> str:
    return re.sub(rf"(?<![\w.'])({COLUMNS})(?![\w'])", rf"{alias}.\1", expr)


# SQLite: one FTS5 table holding every document's text (its own copy: FTS5 external content
# needs a stable integer rowid, which UUID-keyed tables do not have across VACUUM), kept in
# sync by triggers in the writing transaction. No stemmer: type-ahead prefixes match the
# words as written (a stemmed index would miss `escalat*` for `escalation`). `ref` is the
# row's id as stored (32 hex).
FTS_TABLE = "search_fts"
FTS_CREATE = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
    "title, body, ref, type UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')"
)


def sqlite_triggers(type_: str) -> list[tuple[str, str]]:
    """(name, CREATE TRIGGER statement) keeping `search_fts` in step with one table."""
    table, title, body = DOCUMENTS[type_]
    new_title, new_body = _qualify(title, "new"), _qualify(body, "new")
    # Only a change to indexed text rewrites the entry (a status move or version bump does not).
    of = ", ".join(sorted(set(re.findall(rf"\b({COLUMNS})\b", f"{title} {body}"))))
    insert = (
        f"INSERT INTO {FTS_TABLE} (title, body, ref, type) "
        f"VALUES (coalesce({new_title}, ''), {new_body}, new.id, '{type_}');"
    )
    delete = f"DELETE FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH 'ref:\"' || old.id || '\"';"
    return [
        (
            f"trg_{table}_search_ai",
            f"CREATE TRIGGER trg_{table}_search_ai AFTER INSERT ON {table} BEGIN {insert} END",
        ),
        (
            f"trg_{table}_search_au",
            f"CREATE TRIGGER trg_{table}_search_au AFTER UPDATE OF {of} ON {table} "
            f"BEGIN {delete} {insert} END",
        ),
        (
            f"trg_{table}_search_ad",
            f"CREATE TRIGGER trg_{table}_search_ad AFTER DELETE ON {table} BEGIN {delete} END",
        ),
    ]


def sqlite_fill(type_: str) -> str:
    """INSERT … SELECT of every row of one table (migration and `search reindex`)."""
    table, title, body = DOCUMENTS[type_]
    return (
        f"INSERT INTO {FTS_TABLE} (title, body, ref, type) "
        f"SELECT coalesce({title}, ''), {body}, id, '{type_}' FROM {table}"
    )
