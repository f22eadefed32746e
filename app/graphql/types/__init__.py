"""GraphQL object types, a module per domain. They resolve straight from the ORM rows and view
models the services return (no per-field conversion); nested edges go through per-request
loaders. The names the rest of the app imports are here."""

from __future__ import annotations

from app.graphql.types.audit import AuditEventType
from app.graphql.types.comments import CommentType, CommentWarningType, CommentWrittenType
from app.graphql.types.common import (
    DEFAULT_FIRST,
    Connection,
    Edge,
    Info,
    PageInfo,
    connection,
    first_page,
    history_query,
    list_connection,
    list_query,
    parse_id,
    product_arg,
    product_filter_arg,
)
from app.graphql.types.insights import InsightType
from app.graphql.types.interviews import InterviewType
from app.graphql.types.members import MemberType, MeType
from app.graphql.types.products import ProductType
from app.graphql.types.roadmap import RoadmapItemApprovalType, RoadmapItemType
from app.graphql.types.stories import (
    AcceptanceCriterionType,
    ClinicalReviewType,
    JiraSyncType,
    StoryReviewType,
    StoryType,
)

__all__ = [
    "DEFAULT_FIRST",
    "AcceptanceCriterionType",
    "AuditEventType",
    "ClinicalReviewType",
    "CommentType",
    "CommentWarningType",
    "CommentWrittenType",
    "Connection",
    "Edge",
    "Info",
    "InsightType",
    "InterviewType",
    "JiraSyncType",
    "MeType",
    "MemberType",
    "PageInfo",
    "ProductType",
    "RoadmapItemApprovalType",
    "RoadmapItemType",
    "StoryReviewType",
    "StoryType",
    "connection",
    "first_page",
    "history_query",
    "list_connection",
    "list_query",
    "parse_id",
    "product_arg",
    "product_filter_arg",
]
