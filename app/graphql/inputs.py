"""GraphQL input types derived from the REST request models, and the way back.

Each input type is generated from the pydantic model the REST router uses (same fields,
same nullability), and a mutation's `input:` is validated by that same model, so both APIs
accept and refuse exactly the same bodies."""

from __future__ import annotations

import datetime
import enum
import types
import uuid
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    Literal,
    TypeAlias,
    TypeVar,
    Union,
    get_args,
    get_origin,
)

import strawberry
from pydantic import BaseModel, ValidationError
from strawberry.scalars import JSON
from strawberry.types.base import StrawberryObjectDefinition

from app.core.errors import Invalid
from app.core.http import validation_errors
from app.insights.schemas import InsightCreate, InsightUpdate
from app.interviews.schemas import InterviewCreate, InterviewUpdate
from app.members.schemas import MemberAdd
from app.products.schemas import ProductCreate, ProductUpdate
from app.roadmap.schemas import RoadmapItemApprovalInput, RoadmapItemCreate, RoadmapItemUpdate
from app.stories.schemas import ClinicalReviewInput, StoryCreate, StoryUpdate

_SCALARS = (str, int, float, bool, uuid.UUID, datetime.date, datetime.datetime)
M = TypeVar("M", bound=BaseModel)
_made: dict[type[BaseModel], type] = {}


def _graphql_type(ann: Any) -> Any:
    """The GraphQL-facing Python type of a pydantic annotation."""
    origin = get_origin(ann)
    if origin is Annotated:
        return _graphql_type(get_args(ann)[0])
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(ann) if a is not type(None)]
        return _graphql_type(inner[0]) | None
    if origin is Literal:
        values = get_args(ann)
        if isinstance(values[0], enum.Enum):
            return _enum(type(values[0]))
        return type(values[0])
    if origin is list:
        return types.GenericAlias(list, (_graphql_type(get_args(ann)[0]),))  # list[inner]
    if origin is dict:
        return JSON
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return _enum(ann)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return input_type(ann, ann.__name__ + "Input")
    if ann in _SCALARS:
        return ann
    raise TypeError(f"no GraphQL input mapping for {ann!r}")


def _enum(cls: type[enum.Enum]) -> type[enum.Enum]:
    if not hasattr(cls, "_enum_definition") and not hasattr(cls, "__strawberry_definition__"):
        strawberry.enum(cls)
    return cls


def input_type(model: type[BaseModel], name: str, *, partial: bool = False) -> type:
    """A strawberry input with the fields of `model`; `partial` makes every field optional
    (a PATCH: omitted fields stay UNSET and are left out of the model)."""
    if model in _made:
        return _made[model]
    annotations: dict[str, Any] = {}
    attrs: dict[str, Any] = {}
    for fname, info in model.model_fields.items():
        gql = _graphql_type(info.annotation)
        is_required = info.is_required() and not partial
        if is_required:
            annotations[fname] = gql
            attrs[fname] = strawberry.field(description=info.description)
        else:
            if get_origin(gql) not in (Union, types.UnionType):
                gql = gql | None
            annotations[fname] = gql
            attrs[fname] = strawberry.field(default=strawberry.UNSET, description=info.description)
    cls = type(name, (), {"__annotations__": annotations, **attrs})
    cls.__module__ = __name__
    made = strawberry.input(cls, name=name, description=(model.__doc__ or "").strip() or None)
    _made[model] = made
    return made


def plain(value: Any) -> Any:
    """A strawberry input as plain data: set fields only, nested inputs as dicts."""
    definition: StrawberryObjectDefinition | None = getattr(
        value, "__strawberry_definition__", None
    )
    if isinstance(definition, StrawberryObjectDefinition):
        return {
            f.python_name: plain(v)
            for f in definition.fields
            if (v := getattr(value, f.python_name)) is not strawberry.UNSET
        }
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.capitalize() for w in rest)


def to_model(model: type[M], value: Any) -> M:
    """Validate a mutation's input with the REST model; errors as BAD_USER_INPUT (no input
    values echoed)."""
    try:
        return model.model_validate(plain(value))
    except ValidationError as exc:
        errors = validation_errors(exc.errors())
        for e in errors:
            e["loc"] = ["input", *(camel(p) for p in e["loc"])]
        raise Invalid("The input has invalid or unknown fields.", errors=errors) from None


if TYPE_CHECKING:
    # Built at run time from the pydantic models, so opaque to a type checker: a resolver only
    # hands its input to `to_model`, which validates it with the model.
    ProductCreateInput: TypeAlias = Any
    ProductUpdateInput: TypeAlias = Any
    RoadmapItemCreateInput: TypeAlias = Any
    RoadmapItemUpdateInput: TypeAlias = Any
    RoadmapItemApprovalInputType: TypeAlias = Any
    StoryCreateInput: TypeAlias = Any
    StoryUpdateInput: TypeAlias = Any
    ClinicalReviewInputType: TypeAlias = Any
    InterviewCreateInput: TypeAlias = Any
    InterviewUpdateInput: TypeAlias = Any
    InsightCreateInput: TypeAlias = Any
    InsightUpdateInput: TypeAlias = Any
    MemberAddInput: TypeAlias = Any
else:
    ProductCreateInput = input_type(ProductCreate, "ProductCreateInput")
    ProductUpdateInput = input_type(ProductUpdate, "ProductUpdateInput", partial=True)
    RoadmapItemCreateInput = input_type(RoadmapItemCreate, "RoadmapItemCreateInput")
    RoadmapItemUpdateInput = input_type(RoadmapItemUpdate, "RoadmapItemUpdateInput", partial=True)
    RoadmapItemApprovalInputType = input_type(RoadmapItemApprovalInput, "RoadmapItemApprovalInput")
    StoryCreateInput = input_type(StoryCreate, "StoryCreateInput")
    StoryUpdateInput = input_type(StoryUpdate, "StoryUpdateInput", partial=True)
    ClinicalReviewInputType = input_type(ClinicalReviewInput, "ClinicalReviewInput")
    InterviewCreateInput = input_type(InterviewCreate, "InterviewCreateInput")
    InterviewUpdateInput = input_type(InterviewUpdate, "InterviewUpdateInput", partial=True)
    InsightCreateInput = input_type(InsightCreate, "InsightCreateInput")
    InsightUpdateInput = input_type(InsightUpdate, "InsightUpdateInput", partial=True)
    MemberAddInput = input_type(MemberAdd, "MemberAddInput")
