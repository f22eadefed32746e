"""Query and Mutation: thin adapters over the same service functions REST calls."""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import lru_cache, partial
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSchema, ValuesOfCorrectTypeRule, parse, validate
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from app.audit import repository as audit_repository
from app.audit import service as audit
from app.audit.schemas import AuditAction, AuditFilters, AuditOutcome
from app.config import Settings
from app.core.errors import Invalid
from app.graphql import inputs as gi
from app.graphql.errors import ErrorFormatter, SafeValuesOfCorrectTypeRule, format_error
from app.graphql.fastpath import JSON_PAGE, FastPath, JsonPage
from app.graphql.internals import graphql_core_schema, patch_sibling_gather
from app.graphql.limits import check_cost, per_document
from app.graphql.live import Subscription
from app.graphql.mutations import (
    archive_mutation,
    change_mutation,
    create_mutation,
    story_ref,
    uuid_ref,
)
from app.graphql.pm import PmMutation, PmQuery
from app.graphql.scalars import SCALAR_MAP
from app.graphql.sorts import (
    AuditEventSort,
    InsightSort,
    InterviewSort,
    ProductSort,
    RoadmapItemSort,
    StorySort,
)
from app.graphql.types import (
    DEFAULT_FIRST,
    AuditEventType,
    Connection,
    Info,
    InsightType,
    InterviewType,
    MemberType,
    MeType,
    ProductType,
    RoadmapItemType,
    StoryType,
    connection,
    first_page,
    list_connection,
    list_query,
    parse_id,
    product_arg,
    product_filter_arg,
)
from app.insights import service as insights
from app.insights.repository import InsightRepository
from app.insights.schemas import InsightCreate, InsightOut, InsightUpdate
from app.interviews import service as interviews
from app.interviews.repository import InterviewRepository
from app.interviews.schemas import InterviewCreate, InterviewOut, InterviewUpdate
from app.members import service as members
from app.members.models import Membership
from app.members.schemas import MemberAdd, MeOut
from app.products import service as products
from app.products.models import Product
from app.products.repository import ProductRepository
from app.products.schemas import LifecycleStage, ProductCreate, ProductUpdate
from app.roadmap import service as roadmap
from app.roadmap.models import RoadmapItem
from app.roadmap.repository import RoadmapItemRepository
from app.roadmap.schemas import (
    Horizon,
    RoadmapItemApprovalInput,
    RoadmapItemCreate,
    RoadmapItemUpdate,
    RoadmapStatus,
)
from app.stories import service as stories
from app.stories.models import Story
from app.stories.repository import StoryRepository
from app.stories.schemas import ClinicalReviewInput, StoryCreate, StoryStatus, StoryUpdate

ID = strawberry.ID


def _opt_id(value: ID | None, arg: str) -> uuid.UUID | None:
    return None if value is None else parse_id(value, arg)


def _product_object() -> dict[str, JsonPage]:
    """Field metadata: `product(id)` rendered by the database (fast path, PostgreSQL) when
    the document asks only for plain fields and database-rendered pages of it."""

    async def fetch(
        context: Any,
        _keys: list[Any],
        kwargs: dict[str, Any],
        members: tuple[Any, ...],
        _total: bool,
    ) -> dict[None, str] | None:
        ctx = context.ctx
        pid = await products.product_id_for(ctx, products.product_ref(kwargs["id"]))
        text = await products.product_json(ctx, pid, members)
        return None if text is None else {None: text}

    return {JSON_PAGE: JsonPage(model=Product, parent_attr=None, fetch=fetch, single=True)}


def _stories_list() -> dict[str, JsonPage]:
    """Field metadata: a first page of one product's or roadmap item's stories rendered by
    the database (fast path, PostgreSQL) when the document asks only for plain node fields
    (and totalCount); other filters, cursors and databases take the resolver."""

    async def fetch(
        context: Any,
        _keys: list[Any],
        kwargs: dict[str, Any],
        members: tuple[Any, ...],
        total: bool,
    ) -> dict[None, tuple[str, int]] | None:
        if (query := first_page(kwargs)) is None or kwargs.get("assignee") or kwargs.get("labels"):
            return None
        found = await stories.list_stories_json(
            context.ctx,
            query,
            members,
            total=total,
            product_id=_opt_id(kwargs["product_id"], "productId"),
            roadmap_item_id=_opt_id(kwargs["roadmap_item_id"], "roadmapItemId"),
            status=kwargs["status"],
            sprint=kwargs["sprint"],
        )
        return None if found is None else {None: found}

    return {JSON_PAGE: JsonPage(model=Story, parent_attr=None, fetch=fetch)}


@strawberry.type
class Query(PmQuery):
    @strawberry.field(description="The calling principal.", graphql_type=MeType)
    async def me(self, info: Info) -> MeOut:
        return await members.me(info.context.ctx)

    @strawberry.field(
        description="One product by id or by key (e.g. SEPSIS).",
        metadata=_product_object(),
        graphql_type=ProductType | None,
    )
    async def product(self, info: Info, id: ID) -> Product:
        product = await products.get_product(info.context.ctx, await product_arg(info, id))
        info.context.loaders.product.prime(product.id, product)
        return product

    @strawberry.field
    async def products(
        self,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        sort: ProductSort | None = None,
        include_archived: bool = False,
        lifecycle_stage: LifecycleStage | None = None,
    ) -> Connection[ProductType]:
        return await list_connection(
            info,
            list_query(first, after, sort, include_archived),
            ProductRepository,
            products.list_products,
            products.count_products,
            {"lifecycle_stage": lifecycle_stage},
            prime=info.context.loaders.product,
        )

    @strawberry.field(graphql_type=RoadmapItemType | None)
    async def roadmap_item(self, info: Info, id: ID) -> RoadmapItem:
        item = await roadmap.get_roadmap_item(info.context.ctx, parse_id(id))
        info.context.loaders.roadmap_item.prime(item.id, item)
        return item

    @strawberry.field
    async def roadmap_items(
        self,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        sort: RoadmapItemSort | None = None,
        include_archived: bool = False,
        product_id: ID | None = None,
        status: RoadmapStatus | None = None,
        horizon: Horizon | None = None,
        owner: str | None = strawberry.UNSET,
    ) -> Connection[RoadmapItemType]:
        query = list_query(first, after, sort, include_archived)
        filters: dict[str, Any] = {
            "product_id": await product_filter_arg(info, product_id),
            "status": status,
            "horizon": horizon,
        }
        if owner:  # a subject or "me" (issue #16)
            filters["owner"] = owner
        return await list_connection(
            info,
            query,
            RoadmapItemRepository,
            roadmap.list_roadmap_items,
            roadmap.count_roadmap_items,
            filters,
            prime=info.context.loaders.roadmap_item,
        )

    @strawberry.field(
        description="One story by id or by key (e.g. SEPS-12).", graphql_type=StoryType | None
    )
    async def story(self, info: Info, id: ID | None = None, key: str | None = None) -> Story:
        if (id is None) == (key is None):
            raise Invalid(
                "Give exactly one of id or key.",
                errors=[{"loc": ["id"], "msg": "exactly one of id, key"}],
            )
        ref: uuid.UUID | str = parse_id(id) if id is not None else str(key)[:64]
        return await stories.get_story(info.context.ctx, ref)

    @strawberry.field(metadata=_stories_list())
    async def stories(
        self,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        sort: StorySort | None = None,
        include_archived: bool = False,
        product_id: ID | None = None,
        roadmap_item_id: ID | None = None,
        status: StoryStatus | None = None,
        sprint: str | None = None,
        assignee: str | None = strawberry.UNSET,
        labels: list[str] | None = strawberry.UNSET,
    ) -> Connection[StoryType]:
        query = list_query(first, after, sort, include_archived)
        filters: dict[str, Any] = {
            "product_id": await product_filter_arg(info, product_id),
            "roadmap_item_id": _opt_id(roadmap_item_id, "roadmapItemId"),
            "status": status,
            "sprint": sprint,
        }
        if assignee:  # a subject or "me"; labels: all of them (issue #16)
            filters["assignee"] = assignee
        if labels:
            filters["labels"] = tuple(labels)
        return await list_connection(
            info, query, StoryRepository, stories.list_stories, stories.count_stories, filters
        )

    @strawberry.field(graphql_type=InterviewType | None)
    async def interview(self, info: Info, id: ID) -> InterviewOut:
        return await interviews.get_interview(info.context.ctx, parse_id(id))

    @strawberry.field(description="Interviews, redacted unless the caller may see PHI.")
    async def interviews(
        self,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        sort: InterviewSort | None = None,
        include_archived: bool = False,
        product_id: ID | None = None,
    ) -> Connection[InterviewType]:
        query = list_query(first, after, sort, include_archived)
        return await list_connection(
            info,
            query,
            InterviewRepository,
            interviews.list_interviews,
            interviews.count_interviews,
            {"product_id": await product_filter_arg(info, product_id)},
        )

    @strawberry.field(graphql_type=InsightType | None)
    async def insight(self, info: Info, id: ID) -> InsightOut:
        return await insights.get_insight(info.context.ctx, parse_id(id))

    @strawberry.field
    async def insights(
        self,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        sort: InsightSort | None = None,
        include_archived: bool = False,
        product_id: ID | None = None,
        interview_id: ID | None = None,
    ) -> Connection[InsightType]:
        query = list_query(first, after, sort, include_archived)
        filters: dict[str, Any] = {
            "product_id": await product_filter_arg(info, product_id),
            "interview_id": _opt_id(interview_id, "interviewId"),
        }
        return await list_connection(
            info, query, InsightRepository, insights.list_insights, insights.count_insights, filters
        )

    @strawberry.field(description="Audit events, newest first (compliance officers).")
    async def audit_events(
        self,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        sort: AuditEventSort | None = None,
        actor_sub: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        action: AuditAction | None = None,
        outcome: AuditOutcome | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Connection[AuditEventType]:
        ctx = info.context.ctx
        query = list_query(first, after, sort, False)
        filters = AuditFilters(
            actor_sub=actor_sub,
            resource_type=resource_type,
            resource_id=resource_id,
            action=action.value if action else None,
            outcome=outcome.value if outcome else None,
            since=since,
            until=until,
        )
        page = await audit.list_events(ctx, filters, query)
        return connection(page, query, _AuditSort, _no_audit_count)


class _AuditSort:
    sortable = tuple(audit_repository.SORTABLE)
    default_sort = audit_repository.DEFAULT_SORT


async def _no_audit_count() -> int:
    raise Invalid(
        "totalCount is not available for auditEvents (the trail is append-only and large).",
        errors=[{"loc": ["totalCount"], "msg": "not available"}],
    )


@strawberry.type
class Mutation(PmMutation):
    # products
    create_product = create_mutation(
        gi.ProductCreateInput,
        ProductCreate,
        products.create_product,
        ProductType,
        "Create a product; the creator becomes a member.",
    )
    update_product = change_mutation(
        gi.ProductUpdateInput, ProductUpdate, products.update_product, product_arg, ProductType
    )
    archive_product = archive_mutation(products.archive_product, product_arg, ProductType)

    # roadmap
    create_roadmap_item = create_mutation(
        gi.RoadmapItemCreateInput, RoadmapItemCreate, roadmap.create_roadmap_item, RoadmapItemType
    )
    update_roadmap_item = change_mutation(
        gi.RoadmapItemUpdateInput,
        RoadmapItemUpdate,
        roadmap.update_roadmap_item,
        uuid_ref,
        RoadmapItemType,
        "Update a roadmap item; in_progress requires approval.",
    )
    archive_roadmap_item = archive_mutation(roadmap.archive_roadmap_item, uuid_ref, RoadmapItemType)

    @strawberry.mutation(
        description="Approve the item's current version (exec); ifMatch pins the version.",
        graphql_type=RoadmapItemType,
    )
    async def approve_roadmap_item(
        self,
        info: Info,
        id: ID,
        input: gi.RoadmapItemApprovalInputType | None = None,
        if_match: str | None = None,
    ) -> RoadmapItem:
        data = None if input is None else gi.to_model(RoadmapItemApprovalInput, input)
        return await roadmap.approve_roadmap_item(
            info.context.ctx, parse_id(id), data, if_match=if_match
        )

    # stories
    create_story = create_mutation(
        gi.StoryCreateInput, StoryCreate, stories.create_story, StoryType
    )
    update_story = change_mutation(
        gi.StoryUpdateInput,
        StoryUpdate,
        stories.update_story,
        story_ref,
        StoryType,
        "Update a story by id or key (moves follow the workflow).",
    )
    archive_story = archive_mutation(stories.archive_story, story_ref, StoryType)
    review_story = change_mutation(
        gi.ClinicalReviewInputType,
        ClinicalReviewInput,
        stories.review_story,
        story_ref,
        StoryType,
        "Record a clinical review of the story's current content (member clinician).",
    )

    # interviews
    create_interview = create_mutation(
        gi.InterviewCreateInput, InterviewCreate, interviews.create_interview, InterviewType
    )
    update_interview = change_mutation(
        gi.InterviewUpdateInput,
        InterviewUpdate,
        interviews.update_interview,
        uuid_ref,
        InterviewType,
    )
    archive_interview = archive_mutation(interviews.archive_interview, uuid_ref, InterviewType)

    @strawberry.mutation(
        description="Erase an interview's PHI after consent was withdrawn.",
        graphql_type=InterviewType,
    )
    async def purge_interview(self, info: Info, id: ID) -> InterviewOut:
        return await interviews.purge_interview(info.context.ctx, parse_id(id))

    # insights
    create_insight = create_mutation(
        gi.InsightCreateInput, InsightCreate, insights.create_insight, InsightType
    )
    update_insight = change_mutation(
        gi.InsightUpdateInput, InsightUpdate, insights.update_insight, uuid_ref, InsightType
    )
    archive_insight = archive_mutation(insights.archive_insight, uuid_ref, InsightType)

    # members
    @strawberry.mutation(graphql_type=MemberType)
    async def add_member(self, info: Info, product_id: ID, input: gi.MemberAddInput) -> Membership:
        data = gi.to_model(MemberAdd, input)
        return await members.add_member(
            info.context.ctx, await product_arg(info, product_id, "productId"), data.subject
        )

    @strawberry.mutation
    async def remove_member(self, info: Info, product_id: ID, subject: str) -> bool:
        pid = await product_arg(info, product_id, "productId")
        await members.remove_member(info.context.ctx, pid, subject)
        return True


# --- schema construction -------------------------------------------------------------------
async def _gather_settled(*awaitables: Any) -> list[Any]:
    """Sibling fields run to their end before an error propagates. graphql-core cancels the
    siblings of a field whose error nulls their common parent; a sibling cancelled in the
    middle of a statement leaves the request's session unusable, and the request then fails
    as a whole when its audit event is committed (503) instead of answering the error. The
    errors reported are the same: graphql-core drops errors below a nulled position."""
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return list(results)


patch_sibling_gather(_gather_settled)

# Parsed documents, per text and parse options (max_tokens): graphql-core's parse, cached.
_parse = lru_cache(maxsize=256)(parse)


# Validation errors per document object (the parse cache hands out the same object for the
# same text). Not an lru_cache keyed on the document: AST nodes are frozen dataclasses whose
# hash walks the whole tree, on every request.
_VALIDATED: dict[int, tuple[weakref.ref[Any], dict[Any, list[GraphQLError]]]] = {}
_MAX_VALIDATED = 512


def _validate(schema: Any, document: Any, rules: tuple[Any, ...], hide: bool) -> list[GraphQLError]:
    results = per_document(_VALIDATED, document, _MAX_VALIDATED)
    key = (schema, rules, hide)
    errors = results.get(key)
    if errors is None:
        errors = results[key] = validate(schema, document, rules, hide_suggestions=hide)
    return errors


@lru_cache(maxsize=16)
def _rules(given: tuple[Any, ...], limits: tuple[Any, ...]) -> tuple[Any, ...]:
    """The validation rules: strawberry's (with graphql-core's literal check replaced: its
    messages repeat the literal), the limits, strawberry's input rules. Built once per rule
    set, not per request."""
    return (
        *(SafeValuesOfCorrectTypeRule if r is ValuesOfCorrectTypeRule else r for r in given),
        *limits,
        MaybeNullValidationRule,
        OneOfInputValidationRule,
    )


class CachedValidation(SchemaExtension):
    """Parsing and validation once per distinct document (shared LRUs), with the request
    limits, without 'Did you mean' hints when `hide_suggestions` (production: they would
    describe the schema). One extension for what strawberry's ParserCache, MaxTokensLimiter
    and AddValidationRules do (each extension costs its hooks on every request)."""

    def __init__(
        self,
        *,
        hide_suggestions: bool,
        max_tokens: int | None = None,
        rules: tuple[Any, ...] = (),
        max_cost: int | None = None,
    ) -> None:
        self.hide_suggestions = hide_suggestions
        self.max_tokens = max_tokens
        self.rules = rules
        self.max_cost = max_cost

    def on_operation(self) -> Iterator[None]:
        if self.max_tokens is not None:
            self.execution_context.parse_options["max_tokens"] = self.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        ec.graphql_document = _parse(ec.query, **ec.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        rules = _rules(tuple(ec.validation_rules), self.rules)
        schema = graphql_core_schema(ec.schema)
        document = ec.graphql_document
        assert document is not None  # on_parse set it (strawberry validates parsed documents)
        errors = _validate(schema, document, rules, self.hide_suggestions)
        if not errors and self.max_cost is not None:
            # The cost limit (app/graphql/limits.py): with the variables, so a page size
            # passed as $first counts as what it is.
            errors = check_cost(schema, document, ec.operation_name, ec.variables, self.max_cost)
        ec.pre_execution_errors = errors
        yield


class OperationName(SchemaExtension):
    """Stamps "query Name"/"mutation Name" on the request's audit record, and remembers the
    operation type for the view (failed mutations are rolled back as a whole). A query only
    reads (its resolvers never write, tests/api/test_read_only.py), so it then runs like a
    GET: autocommit reads and a group-committed audit event on PostgreSQL."""

    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        if not getattr(ec.context, "is_websocket", False):
            # Subscriptions run over websockets only (app/graphql/live.py): 400 over HTTP.
            ec.allowed_operations = set(ec.allowed_operations) - {OperationType.SUBSCRIPTION}
        yield

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        context = ec.context
        op = ec.operation_type.value
        context.operation_type = op
        if op == "query":
            context.read_only()
        name = ec.operation_name or "anonymous"
        context.audit.graphql_operation = f"{op} {name}"[:200]
        yield

    def get_results(self) -> dict[str, Any]:
        """`extensions.phiRedacted`: the free-text fields whose identifiers were redacted
        before storing (docs/phi.md), like REST's `PHI-Redacted` header."""
        ec = self.execution_context
        redacted = ec.context.audit.phi_redacted
        if not redacted or (ec.result is not None and ec.result.errors):
            return {}  # a mutation with an error stores nothing (app/graphql/router.py)
        return {"phiRedacted": list(redacted)}


class RoundsSchema(strawberry.Schema):
    fastpath: FastPath | None = None

    @property
    def graphql_schema(self) -> GraphQLSchema:
        """graphql-core's schema (app/graphql/internals.py)."""
        return graphql_core_schema(self)

    def _get_execute_function(self) -> Callable[..., Any]:
        """graphql-core's execute, or the compiled fast path in front of it (a private
        strawberry method: app/graphql/internals.py, item 5)."""
        standard = super()._get_execute_function()
        if self.fastpath is None:
            return standard
        return partial(self.fastpath.execute, standard)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Logged (by type only) in ErrorFormatter; strawberry's default logs tracebacks whose
        messages may carry row values."""
        # Subscription results (app/graphql/live.py) never reach ErrorFormatter.on_operation:
        # format them here, in place (codes, masking), before they are sent.
        if getattr(getattr(execution_context, "context", None), "is_websocket", False):
            hide = self.config.disable_field_suggestions
            errors[:] = [format_error(e, hide_suggestions=hide) for e in errors]


def build_schema(settings: Settings | None = None) -> RoundsSchema:
    """The schema with the request limits and error handling of `settings`. Extensions are
    factories: each request gets fresh instances (they hold per-request state)."""
    production = settings.is_production if settings else False
    introspection = settings.introspection_enabled if settings else True
    max_depth = settings.graphql_max_depth if settings else 10
    max_aliases = settings.graphql_max_aliases if settings else 30
    max_tokens = settings.graphql_max_tokens if settings else 2000
    max_cost = settings.graphql_max_cost if settings else 10_000
    # The limiters' rule classes are made once here: QueryDepthLimiter/MaxAliasesLimiter build
    # a new rule class per instance, so a per-request instance would make every request miss
    # CachedValidation (its key includes the rules) and re-validate (~3-5 ms per request).
    limits = (
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    )
    extensions: list[Any] = [
        lambda: CachedValidation(
            hide_suggestions=production, max_tokens=max_tokens, rules=limits, max_cost=max_cost
        ),
        OperationName,
        lambda: ErrorFormatter(hide_suggestions=production),
    ]
    if not introspection:
        extensions.insert(1, DisableIntrospection)
    schema = RoundsSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,  # productEvents over websockets (app/graphql/live.py)
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=production, scalar_map=SCALAR_MAP),
    )
    if settings.graphql_fastpath if settings else True:
        schema.fastpath = FastPath(schema)
    return schema
