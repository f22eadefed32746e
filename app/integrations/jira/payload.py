"""A Jira webhook body as the few facts the sync needs, from Jira Cloud or Jira Server.

Everything is read defensively: a delivery is untrusted input until its signature checks,
and even then Jira versions differ (Cloud users carry only `accountId`, Server users
`name`/`key`; descriptions are wiki markup or Atlassian Document Format; statuses of old
Server instances have no `statusCategory`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from app.core.errors import MalformedRequest

EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")
ISSUE_KEY = re.compile(r"^([A-Z][A-Z0-9_]{0,30})-(\d{1,9})$")
PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")

# Jira's built-in statuses by category, for servers that send no statusCategory.
BUILTIN_CATEGORIES = {
    "open": "new",
    "to do": "new",
    "backlog": "new",
    "reopened": "new",
    "selected for development": "new",
    "in progress": "indeterminate",
    "in review": "indeterminate",
    "resolved": "done",
    "closed": "done",
    "done": "done",
}


@dataclass(frozen=True, slots=True)
class ChangedItem:
    field: str  # fieldId when Jira sends one (Cloud), else the lower-cased field name
    name: str


@dataclass(frozen=True, slots=True)
class JiraEvent:
    event: str  # one of EVENTS, or another webhookEvent the sync does not handle
    issue_key: str | None
    project_key: str | None
    summary: str | None
    description: Any  # wiki text (str), ADF (dict) or None
    status_name: str | None
    status_category: str | None  # new | indeterminate | done | None
    fields: dict[str, Any]
    changed: tuple[ChangedItem, ...] | None  # None: the delivery carries no changelog
    occurred_at: datetime
    user_ref: str | None  # "accountId:…" (Cloud) or "key:…"/"name:…" (Server)

    @property
    def handled(self) -> bool:
        return self.event in EVENTS


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any, limit: int = 20_000) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def _when(body: dict[str, Any], fields: dict[str, Any]) -> datetime:
    """The event's time: the delivery's `timestamp` (ms), else the issue's `updated`."""
    ts = body.get("timestamp")
    if isinstance(ts, int | float) and not isinstance(ts, bool) and 0 < ts < 10**14:
        return datetime.fromtimestamp(ts / 1000, tz=UTC)
    updated = fields.get("updated")
    if isinstance(updated, str):
        try:
            parsed = datetime.fromisoformat(updated)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


def _user(value: Any) -> str | None:
    user = _obj(value)
    for name in ("accountId", "key", "name"):
        v = user.get(name)
        if isinstance(v, str) and v and len(v) <= 128:
            return f"{name}:{v}"
    return None


def parse(raw: bytes) -> JiraEvent:
    """The delivery's facts; MalformedRequest (400) when it is not JSON or names no issue."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise MalformedRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise MalformedRequest("The body must be a JSON object.")
    event = body.get("webhookEvent")
    if not isinstance(event, str) or not event:
        raise MalformedRequest("The body has no webhookEvent.")
    issue = body.get("issue")
    if not isinstance(issue, dict):
        raise MalformedRequest("The body has no issue.")
    key = issue.get("key")
    keyed = ISSUE_KEY.fullmatch(key) if isinstance(key, str) else None
    if keyed is None:
        raise MalformedRequest("The issue has no valid key.")
    fields = _obj(issue.get("fields"))
    project = _obj(fields.get("project")).get("key")
    if not isinstance(project, str) or not PROJECT_KEY.fullmatch(project):
        project = keyed.group(1)
    status = _obj(fields.get("status"))
    status_name = _str(status.get("name"), 100)
    category = _obj(status.get("statusCategory")).get("key")
    if not isinstance(category, str):
        category = BUILTIN_CATEGORIES.get((status_name or "").casefold())
    changed: tuple[ChangedItem, ...] | None = None
    changelog = body.get("changelog")
    if isinstance(changelog, dict):
        items = changelog.get("items")
        changed = tuple(
            ChangedItem(
                field=str(item.get("fieldId") or item.get("field") or "").casefold()[:100],
                name=str(item.get("field") or "")[:100],
            )
            for item in (items if isinstance(items, list) else [])
            if isinstance(item, dict)
        )
    return JiraEvent(
        event=event[:64],
        issue_key=key,
        project_key=project,
        summary=_str(fields.get("summary"), 1000),
        description=fields.get("description"),
        status_name=status_name,
        status_category=category if isinstance(category, str) else None,
        fields=fields,
        changed=changed,
        occurred_at=_when(body, fields),
        user_ref=_user(body.get("user")),
    )
