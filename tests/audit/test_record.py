"""The request's audit action does not depend on the order services enrich the record."""

from __future__ import annotations

import itertools

import pytest

from app.audit.record import AuditRecord


@pytest.mark.parametrize(
    ("touches", "expected"),
    [
        (["read"], "read"),
        (["read", "search"], "search"),
        (["read", "read", "search", "read"], "search"),
        (["update", "read", "search"], "update"),
        (["create", "update"], "create"),
        (["read", "approve", "read"], "approve"),
    ],
)
def test_action_is_the_same_in_every_order(touches, expected):
    writes = [t for t in touches if t not in ("read", "search")]
    for order in set(itertools.permutations(touches)):
        record = AuditRecord(request_id="r", http_method="POST", path="/graphql")
        for action in order:
            record.touch(action, "story")
        # Reads commute; the first write of the order wins (a write's re-read stays the write).
        first_write = next((a for a in order if a in writes), None)
        assert record.action == (first_write or expected), order
