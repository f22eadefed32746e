"""Issue #16's GraphQL fields (search, comments), defined beside their services and mixed
into Query and Mutation here so schema.py changes by one line each."""

from __future__ import annotations

import strawberry

from app.graphql.comments import CommentMutation
from app.graphql.search import SearchQuery


@strawberry.type
class PmQuery(SearchQuery):
    pass


@strawberry.type
class PmMutation(CommentMutation):
    pass
