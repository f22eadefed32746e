"""The committed contracts are what the code serves: regenerate with `make contracts`."""

from __future__ import annotations

import json
import re

from app.contracts import OPENAPI_PATH, SDL_PATH, openapi_text, sdl_text


def test_openapi_matches_code():
    assert OPENAPI_PATH.read_text() == openapi_text(), "run `make contracts`"


def test_schema_graphql_matches_code():
    assert SDL_PATH.read_text() == sdl_text(), "run `make contracts`"


def test_operation_ids_are_camel_case_verbs():
    doc = json.loads(OPENAPI_PATH.read_text())
    ids = [op["operationId"] for path in doc["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    for op_id in ids:
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", op_id), op_id
    for expected in (
        "listStories",
        "createStory",
        "getStory",
        "updateStory",
        "archiveStory",
        "approveRoadmapItem",
        "reviewStory",
        "purgeInterview",
        "getMe",
    ):
        assert expected in ids


def test_every_operation_has_a_description():
    doc = json.loads(OPENAPI_PATH.read_text())
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op.get("description") or op.get("summary"), (method, path)
