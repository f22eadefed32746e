"""Serialize pages of trusted database rows straight to JSON, with pydantic's output format.

`page_response` validating 50 rows into pydantic models and dumping them costs ~10x more
than the JSON encoding itself. The data comes from our own database, validated on write,
so lists skip that round trip: for an output model made only of plain fields, values are
picked from the row in field order and encoded with orjson, which writes them exactly as
pydantic does (UUIDs as strings, UTC datetimes with `Z`, enums by value). Nested models
stored as JSON pass through when they already have the model's shape (same keys, same
order, non-JSON-native fields null); anything else goes through the nested model's
pydantic adapter, so output stays identical to `model_dump_json` either way. Models with
validators, serializers, computed fields, aliases or unknown field types get no encoder
(`encoder_for` returns None) and are serialized by pydantic.
"""

from __future__ import annotations

import operator
import types
import typing
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from typing import Any, Literal

import orjson
from pydantic import BaseModel, TypeAdapter
from sqlalchemy.engine import Row

OPTIONS = orjson.OPT_UTC_Z
_NONE = type(None)
_JSON_SCALARS = (str, int, float, bool)
_SCALARS = (*_JSON_SCALARS, uuid.UUID, datetime, date)


# asyncpg returns its own uuid.UUID subclass, which orjson (exact types only) hands to the
# default; every other field type was checked when the encoder was built.
_default = str


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not _NONE]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _scalar(annotation: Any, allowed: tuple[type, ...]) -> bool:
    if typing.get_origin(annotation) is Literal:
        return all(isinstance(v, str | int | bool) for v in typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return issubclass(annotation, str | int)
    return annotation in allowed


def _plain(annotation: Any, allowed: tuple[type, ...]) -> bool:
    """A field whose value serializes the same through orjson as through pydantic."""
    inner, _ = _strip_optional(annotation)
    if _scalar(inner, allowed):
        return True
    origin, args = typing.get_origin(inner), typing.get_args(inner)
    if origin in (list, tuple, set, frozenset) and args:
        return all(_scalar(a, _JSON_SCALARS) for a in args if a is not Ellipsis)
    if origin is dict and len(args) == 2:
        return args[0] is str and _scalar(args[1], _JSON_SCALARS)
    return False


def _simple_model(model: type[BaseModel]) -> bool:
    decorators = model.__pydantic_decorators__
    if any(
        (
            decorators.validators,
            decorators.field_validators,
            decorators.root_validators,
            decorators.field_serializers,
            decorators.model_serializers,
            decorators.model_validators,
            decorators.computed_fields,
        )
    ):
        return False
    return not any(
        f.alias or f.serialization_alias or f.exclude for f in model.model_fields.values()
    )


def _nested(model: type[BaseModel], many: bool) -> Callable[[Any], Any] | None:
    """A converter for a nested model stored as JSON (dicts): pass through when the stored
    dict already is the model's JSON form, else validate and dump with pydantic."""
    if not _simple_model(model):
        return None
    names = tuple(model.model_fields)
    must_be_null = []
    for name, f in model.model_fields.items():
        if _plain(f.annotation, _JSON_SCALARS):
            continue
        inner, optional = _strip_optional(f.annotation)
        if optional and _scalar(inner, _SCALARS):
            must_be_null.append(name)  # e.g. a datetime: stored text differs from output
            continue
        return None
    adapter = TypeAdapter(list[model] if many else model)  # type: ignore[valid-type]  # model known at run time

    def as_is(d: Any) -> bool:
        return type(d) is dict and tuple(d) == names

    if must_be_null:
        shape = as_is

        def as_is(d: Any) -> bool:
            return shape(d) and all(d[n] is None for n in must_be_null)

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if all(map(as_is, value)) if many and type(value) is list else as_is(value):
            return value
        return adapter.dump_python(adapter.validate_python(value), mode="json")

    return convert


def _tupled(getter: Callable[[Any], Any], n: int) -> Callable[[Any], tuple]:
    """attrgetter/itemgetter of one name return the value itself, not a 1-tuple."""
    return getter if n != 1 else lambda item: (getter(item),)


class RowEncoder:
    """JSON for a list of rows (or entities) as `list[out]` would render it."""

    def __init__(self, names: tuple[str, ...], converters: dict[str, Callable[[Any], Any]]):
        self.names = names
        self.converters = tuple(converters.items())
        self._attrs = _tupled(operator.attrgetter(*names), len(names))
        self._getters: dict[tuple[str, ...], Callable[[Any], tuple]] = {}

    def _getter(self, item: Any) -> Callable[[Any], tuple]:
        # SQLAlchemy's rows and app.db.prepared's named tuples: by position.
        if isinstance(item, Row) or (isinstance(item, tuple) and hasattr(item, "_fields")):
            fields = item._fields
            getter = self._getters.get(fields)
            if getter is None:
                try:
                    index = [fields.index(n) for n in self.names]
                except ValueError:
                    getter = self._attrs  # a name the row lacks raises as attribute access
                else:
                    getter = _tupled(operator.itemgetter(*index), len(index))
                self._getters[fields] = getter
            return getter
        return self._attrs

    def dicts(self, items: Sequence[Any]) -> list[dict[str, Any]]:
        if not items:
            return []
        get = self._getter(items[0])
        names = self.names
        out = [dict(zip(names, get(item), strict=True)) for item in items]
        for name, convert in self.converters:
            for d in out:
                d[name] = convert(d[name])
        return out

    def dumps(self, items: Sequence[Any]) -> bytes:
        return orjson.dumps(self.dicts(items), option=OPTIONS, default=_default)


@lru_cache(maxsize=256)
def encoder_for(out: type[BaseModel], fields: tuple[str, ...] | None = None) -> RowEncoder | None:
    """The fast encoder of an output model (only `fields` of it, in the model's order, when
    given: a sparse fieldset), or None when pydantic must serialize it."""
    if not _simple_model(out) or len(out.model_fields) < 2:
        return None
    selected = out.model_fields if fields is None else {n: out.model_fields[n] for n in fields}
    converters: dict[str, Callable[[Any], Any]] = {}
    for name, f in selected.items():
        if _plain(f.annotation, _SCALARS):
            continue
        inner, _ = _strip_optional(f.annotation)
        origin, args = typing.get_origin(inner), typing.get_args(inner)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            convert = _nested(inner, many=False)
        elif (
            origin is list
            and len(args) == 1
            and isinstance(args[0], type)
            and issubclass(args[0], BaseModel)
        ):
            convert = _nested(args[0], many=True)
        else:
            convert = None
        if convert is None:
            return None
        converters[name] = convert
    return RowEncoder(tuple(selected), converters)
