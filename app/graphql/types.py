"""GraphQL object types. They resolve straight from the ORM rows and view models the
services return (no per-field conversion); nested edges go through per-request loaders."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import strawberry
from strawberry.scalars import JSON

from app.audit.schemas import AuditAction, AuditOutcome
from app.comments.gql_types import CommentType
from app.comments.repository import CommentRepository
from app.core.errors import Invalid
from app.core.jsonpages import JsonMember, JsonNest
from app.core.pagination import MAX_LIMIT, Page, SortSpec, encode_cursor
from app.core.repository import COUNT_CAP, ListQuery
from app.graphql.columns import requested_columns
from app.graphql.fastpath import JSON_PAGE, JsonPage
from app.graphql.sorts import InsightSort, RoadmapItemSort, StorySort
from app.insights.repository import InsightRepository
from app.interviews.schemas import ConsentStatus, ParticipantPersona
from app.products import service as products_service
from app.products.schemas import (
    FdaPathway,
    Iec62304Class,
    LifecycleStage,
    SamdSignificance,
    SamdSituation,
)
from app.roadmap import service as roadmap_service
from app.roadmap.models import RoadmapItem
from app.roadmap.repository import RoadmapItemApprovalRepository, RoadmapItemRepository
from app.roadmap.schemas import ApprovalEntryStatus, ApprovalStatus, Horizon, RoadmapStatus
from app.stories import service as stories_service
from app.stories.models import Story
from app.stories.repository import StoryRepository, StoryReviewRepository
from app.stories.schemas import ReviewStatus, StoryStatus

if TYPE_CHECKING:
    from app.core.repository import Repository

for _enum in (
    LifecycleStage,
    SamdSignificance,
    SamdSituation,
    FdaPathway,
    Iec62304Class,
    Horizon,
    RoadmapStatus,
    ApprovalStatus,
    ApprovalEntryStatus,
    StoryStatus,
    ReviewStatus,
    ParticipantPersona,
    ConsentStatus,
    AuditAction,
    AuditOutcome,
):
    if not hasattr(_enum, "_enum_definition"):
        strawberry.enum(_enum)

T = TypeVar("T")
Info = strawberry.Info  # .context is the request's GraphQLContext
DEFAULT_FIRST = 50


# --- arguments ---------------------------------------------------------------------------
def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def history_query(first: int, after: str | None) -> ListQuery:
    """first/after of a history connection (newest first; nothing is archived)."""
    return list_query(first, after, None, False)


def list_query(
    first: int, after: str | None, sort: str | None, include_archived: bool
) -> ListQuery:
    """GraphQL's first/after/sort (camelCase or snake_case) as the services' ListQuery."""
    if not 1 <= first <= MAX_LIMIT:
        raise Invalid(
            f"first must be between 1 and {MAX_LIMIT}.",
            errors=[{"loc": ["first"], "msg": f"must be 1..{MAX_LIMIT}"}],
        )
    return ListQuery(
        limit=first,
        cursor=after,
        sort=_snake(sort) if sort else None,
        include_archived=include_archived,
    )


def parse_id(value: str | uuid.UUID, arg: str = "id") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Invalid(
            f"{arg} must be a UUID.", errors=[{"loc": [arg], "msg": "not a valid UUID"}]
        ) from None


async def product_arg(info: Info, value: str, arg: str = "id") -> uuid.UUID:
    """A product argument given by id or key, as REST's /products/{id} takes it."""
    ref = products_service.product_ref(value, arg)
    return await products_service.product_id_for(info.context.ctx, ref)


async def product_filter_arg(info: Info, value: str | None) -> uuid.UUID | None:
    """A `productId` list filter given by id or key, as REST's ?product_id= takes it."""
    if value is None:
        return None
    ref = products_service.product_ref(value, "productId")
    return await products_service.product_filter_id(info.context.ctx, ref)


# --- connections -------------------------------------------------------------------------
@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A Relay connection over a keyset-paginated list.")
class Connection(Generic[T]):
    nodes: list[T]
    page: strawberry.Private[Page[Any]]
    sort: strawberry.Private[SortSpec]
    after: strawberry.Private[str | None]
    counter: strawberry.Private[Callable[[], Awaitable[int]]]

    def _cursor(self, node: Any) -> str:
        return encode_cursor(self.sort, getattr(node, self.sort.field), node.id)

    @strawberry.field
    def edges(self) -> list[Edge[T]]:
        return [Edge(cursor=self._cursor(n), node=n) for n in self.nodes]

    @strawberry.field
    def page_info(self) -> PageInfo:
        nodes = self.nodes
        return PageInfo(
            has_next_page=self.page.next_cursor is not None,
            has_previous_page=self.after is not None,
            start_cursor=self._cursor(nodes[0]) if nodes else None,
            end_cursor=self._cursor(nodes[-1]) if nodes else None,
        )

    @strawberry.field(
        description=f"How many rows match the filters, counted up to {COUNT_CAP:,}: exact "
        f"below {COUNT_CAP:,}; {COUNT_CAP:,} means that many or more (a count never reads a "
        "whole large product)."
    )
    async def total_count(self) -> int:
        return await self.counter()


def connection(
    page: Page[Any],
    query: ListQuery,
    repo: type[Repository[Any]] | Any,
    counter: Callable[[], Awaitable[int]],
) -> Connection[Any]:
    """`repo` supplies the sort whitelist (`sortable`, `default_sort`) the page was cut by."""
    sort = SortSpec.parse(query.sort, dict.fromkeys(repo.sortable), repo.default_sort)
    return Connection(nodes=page.items, page=page, sort=sort, after=query.cursor, counter=counter)


def first_page(kwargs: dict[str, Any]) -> ListQuery | None:
    """The ListQuery of a connection's arguments, unless they ask for a page after a cursor
    (database-rendered pages are first pages; the repository decides whether its database
    renders them at all)."""
    if kwargs["after"] is not None:
        return None
    return list_query(kwargs["first"], None, kwargs["sort"], kwargs["include_archived"])


def _rendered_page(
    model: type,
    fetch_page: Callable[..., Any],
    nest_page: Callable[..., Any],
    filters: tuple[str, ...],
) -> dict[str, JsonPage]:
    """Field metadata (JsonPage) of a connection the database can render: `fetch_page(ctx,
    keys, query, members, total=, **filters)` and `nest_page(ctx, query, members, parts,
    **filters)`
    are the resource's services; `filters` name the field's filter arguments."""

    async def fetch(
        context: Any,
        keys: list[uuid.UUID],
        kwargs: dict[str, Any],
        members: tuple[JsonMember, ...],
        total: bool,
    ) -> dict[uuid.UUID, tuple[str, int]] | None:
        if (query := first_page(kwargs)) is None:
            return None
        values = {f: kwargs[f] for f in filters}
        return await fetch_page(context.ctx, keys, query, members, total=total, **values)

    def nest(
        context: Any, kwargs: dict[str, Any], members: tuple[JsonMember, ...], parts: Any
    ) -> JsonNest | None:
        if (query := first_page(kwargs)) is None:
            return None
        return nest_page(context.ctx, query, members, parts, **{f: kwargs[f] for f in filters})

    return {JSON_PAGE: JsonPage(model=model, parent_attr="id", fetch=fetch, nest=nest)}


def _stories_page(parent: stories_service.StoryParent) -> dict[str, JsonPage]:
    """The stories connection of a product or roadmap item rendered by the database when the
    document asks only for plain node fields (fast path, PostgreSQL)."""
    return _rendered_page(
        Story,
        partial(stories_service.stories_json_by, parent=parent),
        partial(stories_service.nested_stories_json, parent=parent),
        ("status", "sprint"),
    )


def _roadmap_page() -> dict[str, JsonPage]:
    """A product's roadmap items rendered by the database, their stories nested in the same
    statement when those are rendered too."""
    return _rendered_page(
        RoadmapItem,
        roadmap_service.roadmap_items_json_by_product,
        roadmap_service.nested_roadmap_items_json,
        ("status", "horizon"),
    )


# --- resources ---------------------------------------------------------------------------
@strawberry.type(name="Product")
class ProductType:
    id: strawberry.ID
    key: str
    name: str
    description: str
    lifecycle_stage: LifecycleStage
    intended_use: str
    samd_significance: SamdSignificance | None
    samd_situation: SamdSituation | None
    imdrf_category: str | None = strawberry.field(description="IMDRF SaMD N12 category, I to IV")
    fda_pathway: FdaPathway
    iec62304_class: Iec62304Class | None
    handles_phi: bool
    model_type: str | None
    performance_metrics: JSON
    jira_project_key: str | None = strawberry.field(description="Linked Jira project (SPEC §9)")
    jira_status_map: JSON = strawberry.field(description="Jira status name -> story status")
    created_at: datetime.datetime
    updated_at: datetime.datetime
    version: int
    archived_at: datetime.datetime | None

    @strawberry.field(metadata=_roadmap_page())
    async def roadmap_items(
        self,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        sort: RoadmapItemSort | None = None,
        include_archived: bool = False,
        status: RoadmapStatus | None = None,
        horizon: Horizon | None = None,
    ) -> Connection[RoadmapItemType]:
        loaders = info.context.loaders
        query = list_query(first, after, sort, include_archived)
        filters = (status, horizon)
        columns = requested_columns(info)
        page = await loaders.roadmap_items_by_product.load((self.id, query, (*filters, columns)))
        if columns is None:  # rows of only some columns must not answer roadmapItem(id)
            loaders.roadmap_item.prime_many({i.id: i for i in page.items})
        return connection(
            page,
            query,
            RoadmapItemRepository,
            lambda: loaders.roadmap_item_count_by_product.load(
                (self.id, include_archived, filters)
            ),
        )

    @strawberry.field(metadata=_stories_page("product_id"))
    async def stories(
        self,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        sort: StorySort | None = None,
        include_archived: bool = False,
        status: StoryStatus | None = None,
        sprint: str | None = None,
    ) -> Connection[StoryType]:
        return await _stories(
            info, "product_id", self.id, first, after, sort, include_archived, (status, sprint)
        )


async def _stories(
    info: Info,
    parent: Any,
    node_id: strawberry.ID | uuid.UUID,
    first: int,
    after: str | None,
    sort: StorySort | None,
    include_archived: bool,
    filters: tuple[Any, ...],
) -> Connection[Any]:
    parent_id = parse_id(node_id)  # the row's UUID, declared as the type's ID
    loaders = info.context.loaders
    query = list_query(first, after, sort, include_archived)
    columns = requested_columns(info)
    page = await loaders.stories_by(parent).load((parent_id, query, (*filters, columns)))
    return connection(
        page,
        query,
        StoryRepository,
        lambda: loaders.story_count_by(parent).load((parent_id, include_archived, filters)),
    )


async def _insights(
    info: Info,
    parent: Any,
    node_id: strawberry.ID | uuid.UUID,
    first: int,
    after: str | None,
    sort: InsightSort | None,
    include_archived: bool,
) -> Connection[Any]:
    parent_id = parse_id(node_id)  # the row's UUID, declared as the type's ID
    loaders = info.context.loaders
    query = list_query(first, after, sort, include_archived)
    page = await loaders.insights_by(parent).load((parent_id, query, ()))
    return connection(
        page,
        query,
        InsightRepository,
        lambda: loaders.insight_count_by(parent).load((parent_id, include_archived, ())),
    )


@strawberry.type(name="RoadmapItem")
class RoadmapItemType:
    id: strawberry.ID
    product_id: uuid.UUID
    title: str
    description: str
    theme: str | None
    horizon: Horizon
    target_quarter: str | None
    status: RoadmapStatus
    reach: int | None
    impact: float | None
    confidence: float | None
    effort: float | None
    rice_score: float | None = strawberry.field(description="reach·impact·confidence/effort")
    approved_by: str | None = strawberry.field(
        description="Approver of the current approval; null if none"
    )
    approved_at: datetime.datetime | None = strawberry.field(
        description="When the current approval was given"
    )
    approval_status: ApprovalStatus = strawberry.field(
        description="none, current, or stale (approved, then materially changed)"
    )
    owner_sub: str | None
    evidence_count: int = strawberry.field(description="Insights linked as evidence")
    created_at: datetime.datetime
    updated_at: datetime.datetime
    version: int
    archived_at: datetime.datetime | None

    @strawberry.field
    async def product(self, info: Info) -> ProductType | None:
        return await info.context.loaders.product.load(self.product_id)

    @strawberry.field(description="Exec approvals of this item, current and stale, newest first.")
    async def approvals(
        self, info: Info, first: int = DEFAULT_FIRST, after: str | None = None
    ) -> Connection[RoadmapItemApprovalType]:
        loaders = info.context.loaders
        query = history_query(first, after)
        page = await loaders.approvals_by_item.load((self.id, query, ()))
        return connection(
            page,
            query,
            RoadmapItemApprovalRepository,
            lambda: loaders.approval_count_by_item.load((self.id, False, ())),
        )

    @strawberry.field(description="Comments on this item, oldest first.")
    async def comments(
        self, info: Info, first: int = DEFAULT_FIRST, after: str | None = None
    ) -> Connection[CommentType]:
        return await _comments(info, "roadmap_item", self.id, first, after)

    @strawberry.field(metadata=_stories_page("roadmap_item_id"))
    async def stories(
        self,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        sort: StorySort | None = None,
        include_archived: bool = False,
        status: StoryStatus | None = None,
        sprint: str | None = None,
    ) -> Connection[StoryType]:
        return await _stories(
            info, "roadmap_item_id", self.id, first, after, sort, include_archived, (status, sprint)
        )

    @strawberry.field(description="Insights linked to this item as evidence.")
    async def insights(
        self,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        sort: InsightSort | None = None,
        include_archived: bool = False,
    ) -> Connection[InsightType]:
        return await _insights(
            info, "roadmap_item_id", self.id, first, after, sort, include_archived
        )


@strawberry.type(name="RoadmapItemApproval", description="One exec approval of one item version.")
class RoadmapItemApprovalType:
    id: strawberry.ID
    roadmap_item_id: uuid.UUID
    version: int = strawberry.field(description="The item version that was approved")
    approver_sub: str
    approved_at: datetime.datetime
    comment: str | None
    stale_at: datetime.datetime | None
    stale_by: str | None = strawberry.field(description="Who made the change that staled it")
    stale_reason: str | None = strawberry.field(description="material_change or reopened")
    stale_fields: list[str] | None = strawberry.field(
        description="Material fields whose change staled it"
    )

    @strawberry.field
    def status(self) -> ApprovalEntryStatus:
        return ApprovalEntryStatus.CURRENT if self.stale_at is None else ApprovalEntryStatus.STALE

    @strawberry.field(description="Whether this approval still counts")
    def current(self) -> bool:
        return self.stale_at is None


@strawberry.type(name="StoryReview", description="One clinical review of one story version.")
class StoryReviewType:
    id: strawberry.ID
    story_id: uuid.UUID
    version: int = strawberry.field(description="The story version that was reviewed")
    status: ReviewStatus
    reviewer_sub: str
    reviewed_at: datetime.datetime
    comment: str | None
    ended_at: datetime.datetime | None
    ended_by: str | None = strawberry.field(description="Who superseded it or changed the content")
    end_reason: str | None = strawberry.field(description="superseded or content_changed")
    changed_fields: list[str] | None = strawberry.field(
        description="Reviewed fields whose change ended it"
    )

    @strawberry.field(description="Whether this review is the story's clinical review now")
    def current(self) -> bool:
        return self.ended_at is None


@strawberry.type(name="AcceptanceCriterion")
class AcceptanceCriterionType:
    id: str
    given: str
    when: str
    then: str
    met: bool


@strawberry.type(name="ClinicalReview")
class ClinicalReviewType:
    status: ReviewStatus
    reviewer_sub: str | None
    reviewed_at: datetime.datetime | None
    comment: str | None


@strawberry.type(name="JiraSync", description="Whether a story follows its Jira issue.")
class JiraSyncType:
    state: str = strawberry.field(description="in_sync or conflict")
    detail: str | None
    jira_status: str | None
    last_event_at: datetime.datetime | None
    changed_by: str | None


def _story_row(source: StoryType) -> Story:
    """The `self` of a StoryType resolver: the Story row its parent field resolved to (every
    Story field resolves from a row, nothing builds a StoryType), whose JSON columns these
    resolvers read under their own field names."""
    return cast(Story, source)


@strawberry.type(name="Story")
class StoryType:
    id: strawberry.ID
    product_id: uuid.UUID
    roadmap_item_id: uuid.UUID | None
    key: str
    title: str
    persona: str | None
    as_a: str | None
    i_want: str | None
    so_that: str | None
    description: str
    status: StoryStatus
    story_points: int | None
    rank: str
    sprint: str | None
    labels: list[str]
    clinical_review_required: bool
    jira_key: str | None
    assignee_sub: str | None
    evidence_count: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    version: int
    archived_at: datetime.datetime | None

    @strawberry.field
    def acceptance_criteria(self) -> list[AcceptanceCriterionType]:
        return [AcceptanceCriterionType(**c) for c in _story_row(self).acceptance_criteria or ()]

    @strawberry.field
    def clinical_review(self) -> ClinicalReviewType | None:
        r = _story_row(self).clinical_review
        if r is None:
            return None
        at = r.get("reviewed_at")
        return ClinicalReviewType(
            status=ReviewStatus(r["status"]),
            reviewer_sub=r.get("reviewer_sub"),
            reviewed_at=datetime.datetime.fromisoformat(at) if at else None,
            comment=r.get("comment"),
        )

    @strawberry.field(description="Jira sync state (SPEC §9); null when never synced.")
    def jira_sync(self) -> JiraSyncType | None:
        s = _story_row(self).jira_sync
        if s is None:
            return None
        at = s.get("last_event_at")
        return JiraSyncType(
            state=s["state"],
            detail=s.get("detail"),
            jira_status=s.get("jira_status"),
            last_event_at=datetime.datetime.fromisoformat(at) if at else None,
            changed_by=s.get("changed_by"),
        )

    @strawberry.field
    async def product(self, info: Info) -> ProductType | None:
        return await info.context.loaders.product.load(self.product_id)

    @strawberry.field
    async def roadmap_item(self, info: Info) -> RoadmapItemType | None:
        if self.roadmap_item_id is None:
            return None
        return await info.context.loaders.roadmap_item.load(self.roadmap_item_id)

    @strawberry.field(description="Insights linked to this story as evidence.")
    async def insights(
        self,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        sort: InsightSort | None = None,
        include_archived: bool = False,
    ) -> Connection[InsightType]:
        return await _insights(info, "story_id", self.id, first, after, sort, include_archived)

    @strawberry.field(description="Clinical reviews of this story, current and ended, newest first")
    async def reviews(
        self, info: Info, first: int = DEFAULT_FIRST, after: str | None = None
    ) -> Connection[StoryReviewType]:
        loaders = info.context.loaders
        query = history_query(first, after)
        page = await loaders.reviews_by_story.load((self.id, query, ()))
        return connection(
            page,
            query,
            StoryReviewRepository,
            lambda: loaders.review_count_by_story.load((self.id, False, ())),
        )

    @strawberry.field(description="Comments on this story, oldest first.")
    async def comments(
        self, info: Info, first: int = DEFAULT_FIRST, after: str | None = None
    ) -> Connection[CommentType]:
        return await _comments(info, "story", self.id, first, after)


@strawberry.type(
    name="Interview",
    description="An interview as this caller may see it: full PHI, or the redacted rendition.",
)
class InterviewType:
    id: strawberry.ID
    product_id: uuid.UUID
    title: str
    conducted_on: datetime.date
    interviewer_sub: str
    participant_persona: ParticipantPersona
    participant_name: str | None
    participant_contact: str | None
    site: str | None
    consent_status: ConsentStatus
    transcript: str | None
    summary: str | None
    tags: list[str]
    phi_detected: bool
    phi_categories: list[str]
    redacted: bool = strawberry.field(description="true when this caller gets the redacted view")
    purged_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    version: int
    archived_at: datetime.datetime | None

    @strawberry.field
    async def product(self, info: Info) -> ProductType | None:
        return await info.context.loaders.product.load(self.product_id)

    @strawberry.field
    async def insights(
        self,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        sort: InsightSort | None = None,
        include_archived: bool = False,
    ) -> Connection[InsightType]:
        return await _insights(info, "interview_id", self.id, first, after, sort, include_archived)


@strawberry.type(name="Insight")
class InsightType:
    id: strawberry.ID
    interview_id: uuid.UUID
    product_id: uuid.UUID
    title: str
    quote: str | None = strawberry.field(
        description="redacted unless the caller may see the interview's PHI"
    )
    persona: ParticipantPersona | None
    severity: int
    tags: list[str]
    story_ids: list[uuid.UUID]
    roadmap_item_ids: list[uuid.UUID]
    phi_detected: bool
    redacted: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime
    version: int
    archived_at: datetime.datetime | None

    @strawberry.field
    async def product(self, info: Info) -> ProductType | None:
        return await info.context.loaders.product.load(self.product_id)

    @strawberry.field(description="The source interview, if this caller may read interviews.")
    async def interview(self, info: Info) -> InterviewType | None:
        return await info.context.loaders.interview.load(self.interview_id)


@strawberry.type(name="Member")
class MemberType:
    product_id: uuid.UUID
    subject: str
    created_at: datetime.datetime
    added_by: str | None


@strawberry.type(name="Me")
class MeType:
    sub: str
    type: str
    role: str | None
    name: str | None
    client_id: str | None
    scopes: list[str]
    product_ids: list[uuid.UUID] = strawberry.field(
        description="Products the principal is a member of"
    )


@strawberry.type(
    name="AuditEvent",
    description="One audit event with its place in the tamper-evident chain (null while sealing).",
)
class AuditEventType:
    id: strawberry.ID
    seq: int | None
    occurred_at: datetime.datetime
    actor_sub: str | None
    actor_role: str | None
    actor_type: str
    client_id: str | None
    action: AuditAction
    resource_type: str | None
    resource_ids: list[str]
    product_id: str | None
    phi_accessed: bool
    changed_fields: list[str]
    outcome: AuditOutcome
    http_method: str
    path: str
    status_code: int
    request_id: str
    source_ip: str | None
    user_agent: str | None
    graphql_operation: str | None
    client_request_id: str | None
    prev_hash: str | None
    hash: str | None


# --- comments (issue #16) ------------------------------------------------------------------
async def _comments(
    info: Info, parent: Any, node_id: strawberry.ID | uuid.UUID, first: int, after: str | None
) -> Connection[CommentType]:
    """One batched statement per query level for every parent's comment page."""
    parent_id = parse_id(node_id)  # the row's UUID, declared as the type's ID
    loaders = info.context.loaders
    query = history_query(first, after)
    page = await loaders.comments_by(parent).load((parent_id, query, ()))
    return connection(
        page,
        query,
        CommentRepository,
        lambda: loaders.comment_count_by(parent).load((parent_id, False, ())),
    )
