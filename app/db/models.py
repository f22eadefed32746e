"""Imports every model so the metadata (Alembic, mappers) sees all tables."""

from app.audit.models import AuditEvent
from app.auth.models import OAuthClient
from app.comments.models import Comment, CommentRevision
from app.db.base import Base
from app.feed.models import (
    FeedEvent,
    IdempotencyKey,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from app.insights.models import Insight, insight_roadmap_item, insight_story
from app.integrations.models import JiraDelivery, SlackLink, SlackLinkCode
from app.interviews.models import Interview
from app.members.models import Membership, UserAccount
from app.products.models import Product
from app.roadmap.models import RoadmapItem, RoadmapItemApproval
from app.stories.models import Story, StoryReview

__all__ = [
    "AuditEvent",
    "Base",
    "Comment",
    "CommentRevision",
    "FeedEvent",
    "IdempotencyKey",
    "Insight",
    "Interview",
    "JiraDelivery",
    "Membership",
    "OAuthClient",
    "Product",
    "RoadmapItem",
    "RoadmapItemApproval",
    "SlackLink",
    "SlackLinkCode",
    "Story",
    "StoryReview",
    "UserAccount",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "insight_roadmap_item",
    "insight_story",
]
