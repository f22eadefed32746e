"""Comments over REST on both databases: PHI redacted before storing (raw text nowhere in
the database), the author's warning, mentions of members, author-only edits with history,
archive on delete, permissions."""

from __future__ import annotations

import pytest

from tests.api.factories import assert_problem, make_world, new_sub
from tests.phi.rawdb import fetch

PHONE = "555-867-5309"
EMAIL = "ada.patient@example.org"


def _url(kind: str, row: dict) -> str:
    return f"/api/v1/{kind}/{row['id']}/comments"


@pytest.fixture(params=["stories", "roadmap-items"])
def kind(request) -> str:
    return request.param


async def _parent(w, kind):
    return await (w.story() if kind == "stories" else w.roadmap_item())


async def test_comment_with_phi_is_stored_redacted_and_author_warned(client, auth, kind, settings):
    w = await make_world(client, auth)
    parent = await _parent(w, kind)
    text = f"Patient called from {PHONE}, email {EMAIL}; looks like a triage bug."
    r = await client.post(_url(kind, parent), json={"body": text}, headers=w.pm)
    assert r.status_code == 201, r.text
    c = r.json()
    assert PHONE not in c["body"] and EMAIL not in c["body"]
    assert "triage bug" in c["body"] and c["phi_redacted"] is True
    assert c["warning"]["code"] == "phi_redacted"
    assert {"phone", "email"} <= set(c["warning"]["categories"])
    assert PHONE not in r.text and EMAIL not in r.text
    eng = await w.member("engineer")
    listed = (await client.get(_url(kind, parent), headers=eng)).json()["data"]
    assert [x["body"] for x in listed] == [c["body"]] and "warning" not in listed[0]
    # the raw text is stored nowhere
    for table in ("comment", "comment_revision", "audit_event"):
        dump = str(await fetch(settings, f"SELECT * FROM {table}"))  # noqa: S608
        assert PHONE not in dump and EMAIL not in dump, table


async def test_clean_comment_has_no_warning_and_mentions_members_only(client, auth, kind):
    w = await make_world(client, auth)
    parent = await _parent(w, kind)
    eng_sub = new_sub("eng")
    await w.member("engineer", eng_sub)
    stranger = new_sub("eng")
    body = f"@{eng_sub}, can you look? cc @{stranger} and @{w.pm_sub}."
    r = await client.post(_url(kind, parent), json={"body": body}, headers=w.pm)
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["warning"] is None and c["phi_redacted"] is False and c["body"] == body
    assert c["mentions"] == [eng_sub, w.pm_sub]
    assert (
        c["author_sub"] == w.pm_sub
        and c[f"{'story' if kind == 'stories' else 'roadmap_item'}_id"] == parent["id"]
    )


async def test_edit_keeps_history_and_only_the_author_may(client, auth, kind):
    w = await make_world(client, auth)
    parent = await _parent(w, kind)
    eng = await w.member("engineer")
    c = (await client.post(_url(kind, parent), json={"body": "First"}, headers=w.pm)).json()
    url = f"{_url(kind, parent)}/{c['id']}"
    assert_problem(await client.patch(url, json={"body": "Hijack"}, headers=eng), 403)
    assert_problem(await client.delete(url, headers=eng), 403)
    r = await client.patch(url, json={"body": f"Second, call {PHONE}"}, headers=w.pm)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and PHONE not in r.json()["body"]
    assert r.json()["warning"]["categories"] == ["phone"]
    assert_problem(
        await client.patch(url, json={"body": "x"}, headers={**w.pm, "If-Match": '"1"'}), 412
    )
    revs = (await client.get(f"/api/v1/comments/{c['id']}/revisions", headers=eng)).json()["data"]
    assert [(x["version"], x["body"]) for x in revs] == [(1, "First")]
    gone = await client.delete(url, headers=w.pm)
    assert gone.status_code == 200 and gone.json()["archived_at"] is not None
    assert (await client.get(_url(kind, parent), headers=w.pm)).json()["data"] == []
    assert_problem(await client.patch(url, json={"body": "again"}, headers=w.pm), 404)


async def test_who_may_comment(client, auth, kind):
    w = await make_world(client, auth)
    parent = await _parent(w, kind)
    outsider = auth("engineer", new_sub("eng"))
    exec_ = auth("exec", new_sub("exec"))
    admin = auth("admin", new_sub("adm"))
    assert_problem(
        await client.post(_url(kind, parent), json={"body": "hi"}, headers=outsider), 403
    )
    assert_problem(await client.post(_url(kind, parent), json={"body": "hi"}, headers=admin), 403)
    r = await client.post(_url(kind, parent), json={"body": "Approved in principle"}, headers=exec_)
    assert r.status_code == 201, r.text
    # everyone who may read the parent reads its comments
    assert len((await client.get(_url(kind, parent), headers=outsider)).json()["data"]) == 1
    # bad input changes nothing
    for bad in ({}, {"body": ""}, {"body": "x" * 10_001}, {"body": 5}, {"body": "a", "x": 1}):
        assert_problem(await client.post(_url(kind, parent), json=bad, headers=w.pm), 422)
    missing = {**parent, "id": "00000000-0000-0000-0000-000000000000"}
    assert_problem(await client.post(_url(kind, missing), json={"body": "x"}, headers=w.pm), 404)
    assert len((await client.get(_url(kind, parent), headers=w.pm)).json()["data"]) == 1


async def test_story_comments_by_key(client, auth):
    w = await make_world(client, auth)
    story = await w.story()
    r = await client.post(
        f"/api/v1/stories/{story['key']}/comments", json={"body": "by key"}, headers=w.pm
    )
    assert r.status_code == 201 and r.json()["story_id"] == story["id"]
