"""The printed SDL of the GraphQL schema (committed at openapi/schema.graphql)."""

from __future__ import annotations

from strawberry.printer import print_schema


def schema_sdl() -> str:
    """The schema as SDL, independent of settings (limits are not part of the contract)."""
    from app.graphql.schema import build_schema

    return print_schema(build_schema()) + "\n"


print_sdl = schema_sdl  # the name app/contracts.py imports


if __name__ == "__main__":  # pragma: no cover
    print(schema_sdl(), end="")
