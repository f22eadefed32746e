"""SPEC §2's permission matrix, as data. Tests are generated from these tables."""

from __future__ import annotations

from enum import StrEnum

from app.auth.principal import Principal, Role


class Permission(StrEnum):
    product_read = "product:read"
    product_create = "product:create"
    product_update = "product:update"  # update and archive
    roadmap_read = "roadmap:read"
    roadmap_write = "roadmap:write"  # create, update, archive
    roadmap_approve = "roadmap:approve"
    story_read = "story:read"
    story_write = "story:write"  # create, update
    story_archive = "story:archive"
    story_review = "story:review"
    comment_write = "comment:write"  # comment on stories and roadmap items (edit: author)
    interview_read = "interview:read"  # redacted view
    interview_read_phi = "interview:read_phi"
    interview_write = "interview:write"  # create, update
    # Naming someone else as an interview's interviewer (on create) or changing who it is:
    # `interviewer_sub` grants full PHI ("own"), so it is never writable by whom it would widen.
    interview_reassign = "interview:reassign"
    interview_archive = "interview:archive"
    interview_purge = "interview:purge"
    insight_read = "insight:read"
    insight_write = "insight:write"  # create, update, archive, link evidence
    audit_read = "audit:read"  # read, verify, export
    members_manage = "members:manage"
    clients_manage = "clients:manage"
    integrations_manage = "integrations:manage"  # Slack account links (SPEC §9)
    webhooks_manage = "webhooks:manage"  # webhook subscriptions (SPEC §10)


class Reach(StrEnum):
    """How far a grant reaches: any product, member products, or own records only."""

    any = "A"
    member = "M"
    own = "own"


A, M, OWN = Reach.any, Reach.member, Reach.own
PM, ENG, CLIN, EXEC, CO, ADM = (
    Role.product_manager,
    Role.engineer,
    Role.clinician,
    Role.exec,
    Role.compliance_officer,
    Role.admin,
)

# permission -> role -> reach; a role absent from a row is never granted it.
PERMISSIONS: dict[Permission, dict[Role, Reach]] = {
    Permission.product_read: {PM: A, ENG: A, CLIN: A, EXEC: A, CO: A, ADM: A},
    Permission.product_create: {PM: A, ADM: A},
    Permission.product_update: {PM: M},
    Permission.roadmap_read: {PM: A, ENG: A, CLIN: A, EXEC: A, CO: A, ADM: A},
    Permission.roadmap_write: {PM: M},
    Permission.roadmap_approve: {EXEC: A},
    Permission.story_read: {PM: A, ENG: A, CLIN: A, EXEC: A, CO: A, ADM: A},
    Permission.story_write: {PM: M, ENG: M},
    Permission.story_archive: {PM: M},
    Permission.story_review: {CLIN: M},
    # Discussion is for the product's team, and for execs, who approve any roadmap item.
    Permission.comment_write: {PM: M, ENG: M, CLIN: M, EXEC: A},
    Permission.interview_read: {PM: M, ENG: M, CLIN: M, CO: A},
    Permission.interview_read_phi: {PM: M, CLIN: OWN, CO: A},
    Permission.interview_write: {PM: M, CLIN: M},
    Permission.interview_reassign: {PM: M, CO: A},
    Permission.interview_archive: {PM: M},
    Permission.interview_purge: {CO: A},
    Permission.insight_read: {PM: M, ENG: M, CLIN: M, EXEC: A, CO: A},
    Permission.insight_write: {PM: M, CLIN: M},
    Permission.audit_read: {CO: A},
    Permission.members_manage: {PM: M, ADM: A},
    Permission.clients_manage: {ADM: A},
    Permission.integrations_manage: {ADM: A},
    # SPEC §10: product managers for products they are members of, admins for all.
    Permission.webhooks_manage: {PM: M, ADM: A},
}

# OAuth scope -> permissions it grants a service account, on any product.
# No scope grants interview reads, let alone PHI.
SCOPE_GRANTS: dict[str, frozenset[Permission]] = {
    "products:read": frozenset({Permission.product_read}),
    "roadmap:read": frozenset({Permission.roadmap_read}),
    "roadmap:write": frozenset({Permission.roadmap_write}),
    "stories:read": frozenset({Permission.story_read}),
    "stories:write": frozenset({Permission.story_write}),
    "insights:read": frozenset({Permission.insight_read}),
    "interviews:write": frozenset({Permission.interview_write}),
}


# The built-in integrations (SPEC §9) act as service principals that Rounds builds itself
# (app/integrations/principals.py), never from a token: what each may do, on any product
# (the Jira webhook only touches the products linked to a Jira project). These are not
# OAuth scopes, so no service account can be granted them.
INTEGRATION_GRANTS: dict[str, frozenset[Permission]] = {
    "integration:jira": frozenset(
        {
            Permission.product_read,
            Permission.story_read,
            Permission.story_write,
            Permission.story_archive,
        }
    ),
}


def reach(principal: Principal, permission: Permission) -> Reach | None:
    """How far `permission` reaches for this principal, or None when never granted."""
    if principal.is_service and principal.client_id is None:
        # Token-borne service principals always carry their client_id (app/auth/tokens.py).
        grants = INTEGRATION_GRANTS.get(principal.sub, frozenset())
        return Reach.any if permission in grants else None
    if principal.is_service:
        granted = any(permission in SCOPE_GRANTS.get(s, ()) for s in principal.scopes)
        return Reach.any if granted else None
    if principal.role is None:
        return None
    return PERMISSIONS[permission].get(principal.role)
