"""GraphQL comments: the same rows as REST, batched (statements do not grow with parents),
mutations with the author's warning, and the same refusals."""

from __future__ import annotations

from tests.api.factories import make_world
from tests.graphql.helpers import codes, gql
from tests.graphql.test_n_plus_one import count_statements

ADD = """mutation($on: CommentParent!, $id: ID!, $body: String!) {
  addComment(on: $on, id: $id, input: {body: $body}) {
    comment { id body phiRedacted mentions authorSub version }
    warning { code categories }
  }
}"""

STORIES = """query($p: ID) {
  stories(productId: $p, first: 50) {
    nodes { id comments(first: 10) { totalCount nodes { id body authorSub } } }
  }
}"""


async def _data(client, query, variables, headers):
    status, body = await gql(client, query, variables, headers)
    assert status == 200 and "errors" not in body, body
    return body["data"]


async def test_add_edit_delete_and_read_back_like_rest(client, auth):
    w = await make_world(client, auth)
    story = await w.story()
    item = await w.roadmap_item()
    added = (
        await _data(
            client, ADD, {"on": "STORY", "id": story["key"], "body": "Call 555-867-5309"}, w.pm
        )
    )["addComment"]
    assert "555-867-5309" not in added["comment"]["body"]
    assert added["warning"] == {"code": "phi_redacted", "categories": ["phone"]}
    rest = (await client.get(f"/api/v1/stories/{story['id']}/comments", headers=w.pm)).json()
    assert [c["body"] for c in rest["data"]] == [added["comment"]["body"]]
    on_item = (
        await _data(client, ADD, {"on": "ROADMAP_ITEM", "id": item["id"], "body": "Fine"}, w.pm)
    )["addComment"]
    assert on_item["warning"] is None
    edited = await _data(
        client,
        """mutation($id: ID!, $c: ID!) { editComment(on: ROADMAP_ITEM, id: $id, commentId: $c,
           input: {body: "Better"}) { comment { body version } } }""",
        {"id": item["id"], "c": on_item["comment"]["id"]},
        w.pm,
    )
    assert edited["editComment"]["comment"] == {"body": "Better", "version": 2}
    eng = await w.member("engineer")
    _, body = await gql(
        client,
        """mutation($id: ID!, $c: ID!) { deleteComment(on: ROADMAP_ITEM, id: $id, commentId: $c)
           { id } }""",
        {"id": item["id"], "c": on_item["comment"]["id"]},
        eng,
    )
    assert codes(body) == ["FORBIDDEN"]
    _, body = await gql(client, ADD, {"on": "STORY", "id": story["id"], "body": ""}, w.pm)
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_story_comments_are_batched(client, auth, app):
    w = await make_world(client, auth)

    async def statements() -> int:
        with count_statements(app) as seen:
            await _data(client, STORIES, {"p": w.pid}, w.pm)
        return len(seen)

    for n in range(2):
        s = await w.story(title=f"S{n}")
        await _data(client, ADD, {"on": "STORY", "id": s["id"], "body": f"c{n}"}, w.pm)
    few = await statements()
    for n in range(2, 8):
        s = await w.story(title=f"S{n}")
        await _data(client, ADD, {"on": "STORY", "id": s["id"], "body": f"c{n}"}, w.pm)
    data = await _data(client, STORIES, {"p": w.pid}, w.pm)
    assert sorted(n["comments"]["nodes"][0]["body"] for n in data["stories"]["nodes"]) == [
        f"c{n}" for n in range(8)
    ]
    assert all(n["comments"]["totalCount"] == 1 for n in data["stories"]["nodes"])
    assert await statements() == few
