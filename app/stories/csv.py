"""Stories in and out of spreadsheets (issue #16): Jira's CSV export or Rounds' own CSV in,
CSV or JSON out.

An import is one transaction: every row is applied through the story service (the same
validation, Jira-key uniqueness, workflow and clinical gate as the API), each row in a
savepoint so its error is reported without spoiling the others; with any error, or with
`dry_run`, everything is rolled back and the report says what would have happened. Status
moves take the workflow's own steps (`allowed_moves`), one at a time, so an import can put a
story in `done` only the way a person could — and never past a clinical review it lacks.
Text columns are PHI-scanned; identifiers are redacted before storing and the row says which
columns were.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ValidationError

from app.audit.record import AuditRecord
from app.core.context import Ctx
from app.core.errors import AppError, Invalid, PayloadTooLarge
from app.core.http import validation_errors
from app.core.repository import ListQuery
from app.phi.redaction import scan_fields
from app.products.service import get_product
from app.stories import service
from app.stories.models import Story
from app.stories.repository import StoryRepository
from app.stories.schemas import STORY_POINTS, StoryCreate, StoryStatus, StoryUpdate
from app.stories.workflow import allowed_moves

MAX_BYTES = 2_000_000
MAX_ROWS = 5_000
EXPORT_MAX = 50_000

# Rounds' own CSV: what the export writes and the import reads back.
ROUNDS_COLUMNS: tuple[str, ...] = (
    "key",
    "jira_key",
    "title",
    "status",
    "story_points",
    "sprint",
    "labels",
    "assignee_sub",
    "description",
)
JIRA_COLUMNS: tuple[str, ...] = (
    "Summary",
    "Issue key",
    "Status",
    "Story Points",
    "Sprint",
    "Labels",
    "Description",
)
JIRA_STATUS = {
    "to do": StoryStatus.BACKLOG,
    "backlog": StoryStatus.BACKLOG,
    "open": StoryStatus.BACKLOG,
    "selected for development": StoryStatus.READY,
    "ready": StoryStatus.READY,
    "in progress": StoryStatus.IN_PROGRESS,
    "in review": StoryStatus.IN_REVIEW,
    "code review": StoryStatus.IN_REVIEW,
    "review": StoryStatus.IN_REVIEW,
    "done": StoryStatus.DONE,
    "closed": StoryStatus.DONE,
    "resolved": StoryStatus.DONE,
    "won't do": StoryStatus.WONT_DO,
    "won't fix": StoryStatus.WONT_DO,
    "wont do": StoryStatus.WONT_DO,
}
SCANNED = ("title", "description")


@dataclass
class RowError:
    line: int
    column: str | None
    reason: str


@dataclass
class RowResult:
    line: int
    action: str  # created | updated | unchanged
    id: uuid.UUID | None
    key: str | None
    changed: list[str] = field(default_factory=list)
    phi_redacted: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    dry_run: bool
    format: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rows: list[RowResult] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass
class _Row:
    line: int
    values: dict[str, Any]
    match_key: str | None = None  # Rounds key
    match_jira: str | None = None  # Jira issue key


# --- parsing --------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(f"The file is larger than {MAX_BYTES} bytes; split it.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(
            "The file is not UTF-8 text.",
            errors=[{"loc": ["body", "file"], "msg": "not UTF-8"}],
        ) from None


def _split_labels(raw: str) -> list[str]:
    return [x for x in re.split(r"[;,\s]+", raw.strip()) if x]


def parse(data: bytes) -> tuple[str, list[_Row], list[RowError]]:
    """(format, rows, errors) of a Jira or Rounds CSV; header problems are a 422."""
    text = _decode(data)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        header = next(reader, None)
        if header is None:
            raise Invalid(
                "The file is empty.", errors=[{"loc": ["body", "file"], "msg": "no header"}]
            )
        header = [h.strip() for h in header]
        if "Summary" in header:
            fmt, columns = "jira", JIRA_COLUMNS
            required = ("Summary",)
        elif "title" in header:
            fmt, columns = "rounds", ROUNDS_COLUMNS
            required = ("title",)
        else:
            raise Invalid(
                "Unknown CSV: expected Jira's columns (Summary, Issue key, Status, …) or "
                "Rounds' (" + ", ".join(ROUNDS_COLUMNS) + ").",
                errors=[{"loc": ["body", "file"], "msg": "unknown header"}],
            )
        rows: list[_Row] = []
        errors: list[RowError] = []
        for record in reader:
            line = reader.line_num
            if not any(c.strip() for c in record):
                continue
            if len(rows) >= MAX_ROWS:
                raise PayloadTooLarge(f"The file has more than {MAX_ROWS} rows; split it.")
            cells: dict[str, list[str]] = {}
            for name, value in zip(header, record, strict=False):
                if name in columns:
                    cells.setdefault(name, []).append(value.strip())
            missing = [c for c in required if not "".join(cells.get(c, []))]
            if missing:
                errors.append(RowError(line, missing[0], "required"))
                continue
            row = (
                _jira_row(line, cells, errors)
                if fmt == "jira"
                else _rounds_row(line, cells, errors)
            )
            if row is not None:
                rows.append(row)
        return fmt, rows, errors
    except csv.Error:
        raise Invalid(
            "The file is not valid CSV.",
            errors=[{"loc": ["body", "file"], "msg": "malformed CSV"}],
        ) from None


def _last(cells: dict[str, list[str]], name: str) -> str:
    """Jira repeats a column (Sprint, Labels) once per value; the last non-empty one wins."""
    values = [v for v in cells.get(name, []) if v]
    return values[-1] if values else ""


def _points(raw: str, line: int, column: str, errors: list[RowError]) -> int | bool | None:
    if not raw:
        return None
    try:
        number = float(raw)
    except ValueError:
        errors.append(RowError(line, column, "not a number"))
        return False
    if not number.is_integer() or int(number) not in STORY_POINTS:
        errors.append(RowError(line, column, "must be one of 0, 1, 2, 3, 5, 8, 13, 21"))
        return False
    return int(number)


def _jira_row(line: int, cells: dict[str, list[str]], errors: list[RowError]) -> _Row | None:
    values: dict[str, Any] = {
        "title": _last(cells, "Summary"),
        "description": _last(cells, "Description"),
        "sprint": _last(cells, "Sprint") or None,
        "labels": list(dict.fromkeys(x for v in cells.get("Labels", []) for x in _split_labels(v))),
    }
    status = _last(cells, "Status")
    if status:
        mapped = JIRA_STATUS.get(status.lower())
        if mapped is None:
            errors.append(
                RowError(
                    line, "Status", "unknown status; one of: " + ", ".join(sorted(JIRA_STATUS))
                )
            )
            return None
        values["status"] = mapped.value
    points = _points(_last(cells, "Story Points"), line, "Story Points", errors)
    if points is False:
        return None
    values["story_points"] = points
    jira_key = _last(cells, "Issue key") or None
    if jira_key:
        values["jira_key"] = jira_key
    return _Row(line, values, match_jira=jira_key)


def _rounds_row(line: int, cells: dict[str, list[str]], errors: list[RowError]) -> _Row | None:
    get = lambda name: _last(cells, name)  # noqa: E731
    values: dict[str, Any] = {
        "title": get("title"),
        "description": get("description"),
        "sprint": get("sprint") or None,
        "labels": _split_labels(get("labels")),
        "jira_key": get("jira_key") or None,
        "assignee_sub": get("assignee_sub") or None,
    }
    if get("status"):
        values["status"] = get("status")
    points = _points(get("story_points"), line, "story_points", errors)
    if points is False:
        return None
    values["story_points"] = points
    return _Row(line, values, match_key=get("key").upper() or None, match_jira=values["jira_key"])


# --- applying -------------------------------------------------------------------------------


def _path(current: str, target: str) -> list[str] | None:
    """The fewest workflow moves from `current` to `target` (None when unreachable)."""
    if current == target:
        return []
    seen: dict[str, str | None] = {current: None}
    queue = deque([current])
    while queue:
        at = queue.popleft()
        for nxt in allowed_moves(at):
            if nxt not in seen:
                seen[nxt] = at
                if nxt == target:
                    steps = [nxt]
                    while (prev := seen[steps[-1]]) != current and prev is not None:
                        steps.append(prev)
                    return steps[::-1]
                queue.append(nxt)
    return None


def _field_of(loc: Sequence[Any], fmt: str) -> str | None:
    name = next((str(p) for p in loc if isinstance(p, str) and p != "body"), None)
    if name is None or fmt == "rounds":
        return name
    return {
        "title": "Summary",
        "description": "Description",
        "sprint": "Sprint",
        "labels": "Labels",
        "story_points": "Story Points",
        "status": "Status",
        "jira_key": "Issue key",
    }.get(name, name)


async def _find(ctx: Ctx, product_id: uuid.UUID, row: _Row) -> Story | None:
    repo = StoryRepository(ctx.session)
    story = None
    if row.match_key:
        story = await repo.get_by_key(row.match_key)
    if story is None and row.match_jira:
        story = await repo.get_by_jira_key(row.match_jira)
    if story is not None and story.product_id != product_id:
        raise Invalid(
            "This story belongs to another product.",
            errors=[
                {"loc": ["body", "jira_key" if row.match_jira else "key"], "msg": "other product"}
            ],
        )
    return story


async def _apply(ctx: Ctx, product_id: uuid.UUID, row: _Row, fmt: str) -> RowResult:
    values = dict(row.values)
    scan = scan_fields({k: values.get(k) for k in SCANNED})
    redacted = [k for k in SCANNED if values.get(k) is not None and scan.redacted[k] != values[k]]
    for k in SCANNED:
        if values.get(k) is not None:
            values[k] = scan.redacted[k]
    target = values.pop("status", None)
    story = await _find(ctx, product_id, row)
    if story is None:
        start = target if target in (StoryStatus.BACKLOG, StoryStatus.READY) else "backlog"
        story = await service.create_story(
            ctx,
            StoryCreate.model_validate({**values, "product_id": str(product_id), "status": start}),
        )
        action, changed = "created", sorted(k for k, v in values.items() if v not in (None, "", []))
    else:
        current = {k: getattr(story, k) for k in values}
        diff = {k: v for k, v in values.items() if current[k] != v}
        changed = sorted(diff)
        if diff:
            story = await service.update_story(ctx, story.id, StoryUpdate.model_validate(diff))
        action = "updated" if diff else "unchanged"
    if target and target != story.status:
        steps = _path(story.status, target)
        if steps is None:
            raise Invalid(
                f"The workflow has no way from {story.status} to {target}.",
                errors=[{"loc": ["body", "status"], "msg": "unreachable status"}],
            )
        for step in steps:
            story = await service.update_story(ctx, story.id, StoryUpdate(status=step))
        changed = sorted({*changed, "status"})
        if action == "unchanged":
            action = "updated"
    return RowResult(row.line, action, story.id, story.key, changed, redacted)


async def import_stories(
    ctx: Ctx, product_id: uuid.UUID, data: bytes, *, dry_run: bool
) -> ImportReport:
    """Create or update the product's stories from a CSV (see the module docstring)."""
    product_id = (await get_product(ctx, product_id, audit=False)).id
    await ctx.authorize(service.Permission.story_write, product_id=product_id)
    fmt, rows, errors = parse(data)
    report = ImportReport(dry_run=dry_run, format=fmt, errors=errors)
    # The row work runs with a scratch audit record: one event for the whole import is
    # written below (`import`, the ids), not a create/update per row.
    work = replace(ctx, audit=AuditRecord(request_id="import", http_method="POST", path=""))
    outer = await ctx.session.begin_nested()
    try:
        for row in rows:
            savepoint = await ctx.session.begin_nested()
            try:
                result = await _apply(work, product_id, row, fmt)
            except ValidationError as exc:
                await savepoint.rollback()
                for e in validation_errors(exc.errors()):
                    report.errors.append(RowError(row.line, _field_of(e["loc"], fmt), e["msg"]))
                continue
            except AppError as exc:
                await savepoint.rollback()
                locs = [e.get("loc", ()) for e in (exc.errors or [])] or [()]
                report.errors.append(RowError(row.line, _field_of(locs[0], fmt), exc.detail))
                continue
            await savepoint.commit()
            report.rows.append(result)
            setattr(report, result.action, getattr(report, result.action) + 1)
    except BaseException:
        await outer.rollback()
        raise
    report.errors.sort(key=lambda e: e.line)
    ids = [r.id for r in report.rows if r.action != "unchanged" and r.id is not None]
    if dry_run or report.errors:
        await outer.rollback()
    else:
        await outer.commit()
    changed = sorted({c for r in report.rows for c in r.changed})
    ctx.audit.touch(
        "import",
        "story",
        [] if dry_run or report.errors else ids,
        product_id=product_id,
        changed=(["dry_run"] if dry_run else changed),
    )
    if report.errors and not dry_run:
        raise Invalid(
            f"{len(report.errors)} row(s) cannot be imported; nothing was written. "
            "Fix them, or send ?dry_run=true to see the full report.",
            errors=[
                {
                    "loc": ["file", e.line, e.column or ""],
                    "msg": e.reason,
                    "line": e.line,
                    "column": e.column,
                }
                for e in report.errors
            ],
        )
    return report


# --- export ---------------------------------------------------------------------------------


async def export_rows(ctx: Ctx, **filters: Any) -> list[Any]:
    """The stories a list with these filters spans, in backlog order (at most EXPORT_MAX)."""
    rows: list[Any] = []
    cursor = None
    while True:
        page = await service.list_stories(ctx, ListQuery(limit=200, cursor=cursor), **filters)
        rows.extend(page.items)
        if len(rows) > EXPORT_MAX:
            raise Invalid(
                f"More than {EXPORT_MAX} stories match; narrow the filters (e.g. product_id).",
                errors=[{"loc": ["query"], "msg": "too many rows"}],
            )
        cursor = page.next_cursor
        if cursor is None:
            return rows


def _cell(row: Any, name: str) -> str:
    value = getattr(row, name)
    if value is None:
        return ""
    if name == "labels":
        return ";".join(value)
    return str(value)


def csv_chunks(rows: list[Any]) -> Iterator[bytes]:
    """Rounds CSV, 500 rows per chunk (a streamed response)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(ROUNDS_COLUMNS)
    for n, row in enumerate(rows, 1):
        writer.writerow([_cell(row, c) for c in ROUNDS_COLUMNS])
        if n % 500 == 0:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode()


def json_chunks(rows: list[Any], out: type[BaseModel]) -> Iterator[bytes]:
    """`{"data": [...]}`, 500 rows per chunk."""
    yield b'{"data":['
    for n in range(0, len(rows), 500):
        part = b",".join(
            out.model_validate(r, from_attributes=True).model_dump_json().encode()
            for r in rows[n : n + 500]
        )
        yield (b"," if n else b"") + part
    yield b"]}"
