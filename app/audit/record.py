"""The in-flight audit record of one request, enriched by services as they work."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field


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
    # The status the request's outcome corresponds to when its HTTP status says less: GraphQL
    # answers a failed operation with 200 + errors (GraphQL-over-HTTP, application/json), yet
    # its work is rolled back and it is audited as the failure it was (e.g. 403 → denied).
    outcome_status: int | None = None

    def set_graphql_operation(self, name: str | None, kind: str | None = None) -> None:
        """GraphQL hook: the executor calls this once the document is parsed, with the
        operation name (or None for an anonymous operation) and its kind (query/mutation),
        stored as e.g. "mutation createStory". Never the query text or variables (PHI)."""
        label = " ".join(p for p in (kind, name or "anonymous") if p)
        self.graphql_operation = label[:200]

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
