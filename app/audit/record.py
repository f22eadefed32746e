"""The in-flight audit record of one request, enriched by services as they work."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple


class Companion(NamedTuple):
    """A further event of the same request (same actor, request id, status): what one event's
    single resource_type cannot hold, e.g. the subjects of an interviewer change."""

    action: str
    resource_type: str
    resource_ids: tuple[str, ...]
    product_id: str | None
    changed_fields: tuple[str, ...]


_READS = frozenset(("read", "search", "export", "login"))


@dataclass(slots=True)
class AuditRecord:
    request_id: str
    http_method: str
    path: str
    source_ip: str | None = None
    user_agent: str | None = None
    actor_sub: str | None = None
    actor_role: str | None = None
    actor_type: str = "anonymous"
    client_id: str | None = None
    action: str | None = None
    resource_type: str | None = None
    resource_ids: list[str] = field(default_factory=list)
    _seen_ids: set[str] = field(default_factory=set, repr=False)
    product_id: str | None = None
    phi_accessed: bool = False
    changed_fields: list[str] = field(default_factory=list)
    graphql_operation: str | None = None
    # resource type -> ids the caller asked for by id and was refused (404/403), in order.
    refused: dict[str, list[str]] = field(default_factory=dict)
    # Further events of a successful request (see Companion); dropped when it fails.
    companions: list[Companion] = field(default_factory=list)
    # Names of non-PHI free-text fields whose detected identifiers were redacted before
    # storing (app/phi/fields.py); answered as a warning, never stored in the event.
    phi_redacted: list[str] = field(default_factory=list)
    # The caller's own X-Request-Id (validated), kept beside the server's request_id.
    client_request_id: str | None = None
    # Change feed (app/feed): every write touch as (action, resource_type, ids, product_id,
    # changed), in order; the outbox events of the request are derived from them.
    writes: list[tuple[str, str, tuple[str, ...], str | None, tuple[str, ...]]] = field(
        default_factory=list
    )
    # The status the request's outcome corresponds to when its HTTP status says less: GraphQL
    # answers a failed operation with 200 + errors (GraphQL-over-HTTP, application/json), yet
    # its work is rolled back and it is audited as the failure it was (e.g. 403 → denied).
    outcome_status: int | None = None

    def touch(
        self,
        action: str,
        resource_type: str,
        ids: Iterable[uuid.UUID | str] = (),
        *,
        product_id: uuid.UUID | str | None = None,
        phi: bool = False,
        changed: Iterable[str] = (),
    ) -> None:
        """Record what a service did; several calls in one request accumulate."""
        if action not in _READS:  # a write: kept whole for the change feed (app/feed)
            ids, changed = tuple(ids), tuple(changed)
            pid = None if product_id is None else str(product_id)
            self.writes.append((action, resource_type, tuple(map(str, ids)), pid, changed))
        # The first write action wins over later reads (a PATCH that re-reads stays "update");
        # among reads, a search (a list served) wins over single reads, whatever their order:
        # sibling GraphQL fields enrich the record in an order that depends on I/O timing.
        if self.action is None or (self.action == "read" and action != "read"):
            self.action = action
        elif self.action == "search" and action not in ("read", "search"):
            self.action = action
        if self.resource_type is None:
            self.resource_type = resource_type
        for i in ids:
            s = str(i)
            if s not in self._seen_ids:  # a set: pages of hundreds of ids stay linear
                self._seen_ids.add(s)
                self.resource_ids.append(s)
        if product_id is not None and self.product_id is None:
            self.product_id = str(product_id)
        self.phi_accessed = self.phi_accessed or phi
        for name in changed:
            if name not in self.changed_fields:
                self.changed_fields.append(name)

    def refuse(self, resource_type: str, resource_id: uuid.UUID | str) -> None:
        """A resource asked for by id was not found or not readable: recorded as an
        `access_denied` event (app/audit/writer.py). Only ids are recorded: a reference that
        is not a UUID (a story key, free text) is client text and is left out."""
        if not isinstance(resource_id, uuid.UUID):
            try:
                resource_id = uuid.UUID(resource_id)
            except ValueError:
                return
        ids = self.refused.setdefault(resource_type, [])
        s = str(resource_id)
        if s not in ids:
            ids.append(s)

    def also(
        self,
        action: str,
        resource_type: str,
        ids: Iterable[str],
        *,
        product_id: uuid.UUID | str | None = None,
        changed: Iterable[str] = (),
    ) -> None:
        """Record a companion event of this request (written only if it succeeds)."""
        self.companions.append(
            Companion(
                action,
                resource_type,
                tuple(ids),
                None if product_id is None else str(product_id),
                tuple(changed),
            )
        )

    def redacted(self, names: Iterable[str]) -> None:
        """Field names whose detected identifiers were redacted before storing."""
        for name in names:
            if name not in self.phi_redacted:
                self.phi_redacted.append(name)
