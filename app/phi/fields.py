"""Every string field of every resource, classified once (docs/phi.md, "Free text").

- ``PHI``: PHI-bearing. Encrypted at rest (``PhiText``), scanned on write, and replaced by
  the redacted rendition (or null) in the views of callers without full PHI.
- ``FREE_TEXT``: free text that is not meant to hold PHI. Scanned on write; detected
  identifiers are redacted *before storing*, and the response names the field in its
  ``phi_redacted`` warning (app/phi/scan.py).
- ``IDENTIFIER``: keys, codes, ranks, subjects and other machine values: matched exactly
  (filters, uniqueness, links), so never rewritten. Their shapes are validated instead.
- ``SERVER``: written by Rounds itself (audit events, problem documents, tokens, computed
  values), never by the client of that resource.

Nested fields are ``parent.child`` (``acceptance_criteria.given``). Enums, ids, dates and
numbers are not strings a person types and are left out. ``tests/phi/test_field_table.py``
fails on a string field of the OpenAPI document that is missing here.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    PHI = "phi"
    FREE_TEXT = "free_text"
    IDENTIFIER = "identifier"
    SERVER = "server"


PHI, FREE, IDENT, SERVER = Kind.PHI, Kind.FREE_TEXT, Kind.IDENTIFIER, Kind.SERVER

FIELDS: dict[str, dict[str, Kind]] = {
    "product": {
        "key": IDENT,
        "jira_project_key": IDENT,
        "name": FREE,
        "description": FREE,
        "intended_use": FREE,
        "model_type": FREE,
        "imdrf_category": SERVER,  # computed from the SaMD answers
    },
    "roadmap_item": {
        "title": FREE,
        "description": FREE,
        "theme": FREE,
        "target_quarter": IDENT,  # YYYY-Qn
        "approved_by": SERVER,  # the approving exec's subject
        "owner_sub": IDENT,  # a product member's subject; grants nothing
        # approval history (GET …/approvals) and POST …/approve {"comment"}
        "comment": FREE,
        "approver_sub": SERVER,
        "stale_by": SERVER,
        "stale_fields": SERVER,
        "stale_reason": SERVER,
    },
    "story": {
        "key": SERVER,
        "title": FREE,
        "persona": FREE,
        "as_a": FREE,
        "i_want": FREE,
        "so_that": FREE,
        "description": FREE,
        "labels": FREE,
        "acceptance_criteria.id": IDENT,
        "acceptance_criteria.given": FREE,
        "acceptance_criteria.when": FREE,
        "acceptance_criteria.then": FREE,
        "rank": IDENT,
        "sprint": IDENT,  # a filter key (?sprint=); redacting a date in it would break it
        "jira_key": IDENT,
        "assignee_sub": IDENT,  # a product member's subject; grants nothing
        "clinical_review.comment": FREE,
        "clinical_review.reviewer_sub": SERVER,
        # Jira sync state (SPEC §9): written by Rounds from the webhook, never by a client
        "jira_sync.detail": SERVER,
        "jira_sync.jira_status": SERVER,
        "jira_sync.changed_by": SERVER,
        # review history (GET …/reviews): the comment is the review's, scanned when written
        "comment": FREE,
        "reviewer_sub": SERVER,
        "ended_by": SERVER,
        "end_reason": SERVER,
        "changed_fields": SERVER,
    },
    "interview": {
        "participant_name": PHI,
        "participant_contact": PHI,
        "transcript": PHI,
        "summary": PHI,
        "title": FREE,
        "site": FREE,
        "tags": FREE,
        "interviewer_sub": IDENT,  # a subject: printable ASCII without spaces
        "phi_categories": SERVER,
    },
    "insight": {
        "quote": PHI,
        "title": FREE,
        "tags": FREE,
    },
    "slack_link": {  # Slack identity links (admin, or the user with a one-time code)
        "team_id": IDENT,
        "user_id": IDENT,
        "subject": IDENT,
        "code": IDENT,
        "created_by": SERVER,
    },
    "comment": {  # comments on stories and roadmap items (app/comments): scanned, stored redacted
        "body": FREE,
        "author_sub": SERVER,
        "mentions": SERVER,  # product members' subjects parsed from the body
    },
    "story_import": {  # POST …/stories/import: a CSV file, its text columns scanned per row
        "file": FREE,
    },
    "search": {  # hits are built from stored (already redacted) text
        "type": SERVER,
        "title": SERVER,
        "snippet": SERVER,
        "next_cursor": SERVER,
    },
    "webhook": {  # subscriptions (SPEC §10): configuration, not free text
        "url": IDENT,  # validated: https in production, public addresses only
        "event_types": IDENT,
        "secret": SERVER,  # generated, shown once
        "created_by": SERVER,
        "disabled_reason": SERVER,
    },
    "webhook_delivery": {
        name: SERVER
        for name in ("event_type", "resource_id", "resource_type", "state", "outcome", "trigger")
    },
    "membership": {
        "subject": IDENT,
        "added_by": SERVER,
    },
    "principal": {  # GET /me: from the verified token
        "sub": SERVER,
        "type": SERVER,
        "role": SERVER,
        "name": SERVER,
        "client_id": SERVER,
        "scopes": SERVER,
    },
    "audit_event": {
        name: SERVER
        for name in (
            "action",
            "actor_role",
            "actor_sub",
            "actor_type",
            "changed_fields",
            "client_id",
            "client_request_id",
            "graphql_operation",
            "hash",
            "http_method",
            "outcome",
            "path",
            "prev_hash",
            "product_id",
            "request_id",
            "resource_ids",
            "resource_type",
            "source_ip",
            "user_agent",
        )
    },
    "api": {  # envelopes: problem documents, pages, OAuth token endpoint
        "type": SERVER,
        "title": SERVER,
        "detail": SERVER,
        "errors": SERVER,
        "allowed": SERVER,
        "next_cursor": SERVER,
        "access_token": SERVER,
        "token_type": SERVER,
        "scope": SERVER,
        "error": SERVER,
        "error_description": SERVER,
        # Jira webhook answer (SPEC §9): {"status", "reason", "story_key", ...}
        "status": SERVER,
        "reason": SERVER,
        "story_key": SERVER,
        "story_id": SERVER,
        # comment warnings and CSV import reports
        "code": SERVER,
        "categories": SERVER,
        "format": SERVER,
        "column": SERVER,
        "action": SERVER,
        "changed": SERVER,
        "phi_redacted": SERVER,
        "key": SERVER,  # a story key in an import report
    },
}


def kind(resource: str, field: str) -> Kind | None:
    """The classification of `resource.field`, or None when it is not in the table."""
    return FIELDS.get(resource, {}).get(field)


def free_text(resource: str, prefix: str = "") -> frozenset[str]:
    """Names of the FREE_TEXT fields of `resource` under `prefix` (e.g. "clinical_review.")."""
    return frozenset(
        f.removeprefix(prefix)
        for f, k in FIELDS.get(resource, {}).items()
        if k is Kind.FREE_TEXT and f.startswith(prefix) and "." not in f.removeprefix(prefix)
    )


def nested_free_text(resource: str) -> dict[str, frozenset[str]]:
    """parent -> FREE_TEXT child names, for fields holding objects (acceptance_criteria)."""
    out: dict[str, set[str]] = {}
    for f, k in FIELDS.get(resource, {}).items():
        if k is Kind.FREE_TEXT and "." in f:
            parent, child = f.split(".", 1)
            out.setdefault(parent, set()).add(child)
    return {p: frozenset(c) for p, c in out.items()}
