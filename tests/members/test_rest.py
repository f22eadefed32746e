"""Product membership and /me over REST."""

from __future__ import annotations

import pytest

from tests.api.factories import assert_problem, error_locs, make_world, new_sub


async def test_creator_is_member_and_members_can_be_added_and_removed(client, auth):
    w = await make_world(client, auth)
    url = f"/api/v1/products/{w.pid}/members"
    r = await client.get(url, headers=w.pm)
    assert r.status_code == 200
    assert r.json() == {"data": [r.json()["data"][0]], "next_cursor": None}
    assert [m["subject"] for m in r.json()["data"]] == [w.pm_sub]

    eng = new_sub("eng")
    added = await client.post(url, json={"subject": eng}, headers=w.pm)
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["subject"] == eng and body["product_id"] == w.pid
    assert body["added_by"] == w.pm_sub and body["created_at"]
    assert [m["subject"] for m in (await client.get(url, headers=w.pm)).json()["data"]] == [
        w.pm_sub,
        eng,
    ]

    dup = await client.post(url, json={"subject": eng}, headers=w.pm)
    assert_problem(dup, 409)

    me = await client.get("/api/v1/me", headers=auth("engineer", eng))
    assert me.json()["product_ids"] == [w.pid]

    removed = await client.delete(f"{url}/{eng}", headers=w.pm)
    assert removed.status_code == 204 and removed.content == b""
    assert [m["subject"] for m in (await client.get(url, headers=w.pm)).json()["data"]] == [
        w.pm_sub
    ]
    assert_problem(await client.delete(f"{url}/{eng}", headers=w.pm), 404)
    me = await client.get("/api/v1/me", headers=auth("engineer", eng))
    assert me.json()["product_ids"] == []


async def test_admin_manages_members_of_any_product(client, auth):
    w = await make_world(client, auth)
    url = f"/api/v1/products/{w.pid}/members"
    admin = auth("admin", new_sub("admin"))
    sub = new_sub("clin")
    assert (await client.post(url, json={"subject": sub}, headers=admin)).status_code == 201
    assert (await client.delete(f"{url}/{sub}", headers=admin)).status_code == 204


async def test_subjects_with_odd_characters_round_trip(client, auth):
    w = await make_world(client, auth)
    url = f"/api/v1/products/{w.pid}/members"
    sub = "auth0|5f7c8ec7c33c6c004bbafe82 ü"
    assert (await client.post(url, json={"subject": sub}, headers=w.pm)).status_code == 201
    assert sub in [m["subject"] for m in (await client.get(url, headers=w.pm)).json()["data"]]
    r = await client.delete(f"{url}/auth0%7C5f7c8ec7c33c6c004bbafe82%20%C3%BC", headers=w.pm)
    assert r.status_code == 204


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"subject": ""},
        {"subject": "   "},
        {"subject": 5},
        {"subject": None},
        {"subject": "s" * 256},
        {"subject": "\t" + "s" * 255},
        {"subject": "s" * 255 + " "},
        {"subject": "line\nbreak\n"},
        {"subject": "x", "role": "admin"},
        ["x"],
    ],
)
async def test_bad_member_body_is_422_and_changes_nothing(client, auth, body):
    w = await make_world(client, auth)
    url = f"/api/v1/products/{w.pid}/members"
    r = await client.post(url, json=body, headers=w.pm)
    assert_problem(r, 422)
    assert error_locs(r)
    assert [m["subject"] for m in (await client.get(url, headers=w.pm)).json()["data"]] == [
        w.pm_sub
    ]


async def test_members_of_unknown_product_is_404_and_bad_id_is_422(client, auth):
    pm = auth("product_manager", new_sub("pm"))
    missing = "/api/v1/products/01900000-0000-7000-8000-000000000000/members"
    assert_problem(await client.get(missing, headers=pm), 404)
    assert_problem(await client.post(missing, json={"subject": "a"}, headers=pm), 404)
    # "123" would be a well-formed product key (404); this is neither an id nor a key
    assert_problem(await client.get("/api/v1/products/not-an-id/members", headers=pm), 422)


async def test_me(client, auth, token):
    sub = new_sub("alice")
    headers = {"Authorization": f"Bearer {token(sub, 'clinician', name='Alice Example')}"}
    r = await client.get("/api/v1/me", headers=headers)
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["sub"] == sub and me["role"] == "clinician" and me["type"] == "user"
    assert me["name"] == "Alice Example" and me["product_ids"] == []
    assert me["client_id"] is None and isinstance(me["scopes"], list)

    w = await make_world(client, auth)
    await w.member("clinician", sub)
    second = await make_world(client, auth)
    await second.member("clinician", sub)
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert sorted(me["product_ids"]) == sorted([w.pid, second.pid])
    assert_problem(await client.get("/api/v1/me"), 401)


async def test_me_copes_with_odd_name_claims(client, token):
    for name in ("n" * 300, "a\u0000b", "Ünïcødé 😀"):
        sub = new_sub("odd")
        r = await client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {token(sub, 'engineer', name=name)}"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["sub"] == sub


async def test_subject_with_a_slash_can_be_added_and_removed(client, auth):
    w = await make_world(client, auth)
    url = f"/api/v1/products/{w.pid}/members"
    sub = "oidc/tenant-a/alice"
    assert (await client.post(url, json={"subject": sub}, headers=w.pm)).status_code == 201
    r = await client.delete(f"{url}/oidc/tenant-a/alice", headers=w.pm)
    assert r.status_code == 204, r.text
    assert sub not in [m["subject"] for m in (await client.get(url, headers=w.pm)).json()["data"]]


async def test_member_list_pages_with_cursor_and_link(client, auth):
    w = await make_world(client, auth)
    url = f"/api/v1/products/{w.pid}/members"
    added = [new_sub(f"m{i}") for i in range(5)]
    for sub in added:
        assert (await client.post(url, json={"subject": sub}, headers=w.pm)).status_code == 201
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        r = await client.get(url, params=params, headers=w.pm)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["data"]) <= 2
        seen += [m["subject"] for m in body["data"]]
        pages += 1
        cursor = body["next_cursor"]
        assert ("Link" in r.headers) == (cursor is not None)
        if cursor is None:
            break
    assert seen == [w.pm_sub, *added] and pages == 3
    assert_problem(await client.get(url, params={"cursor": "not-a-cursor"}, headers=w.pm), 422)
    assert_problem(await client.get(url, params={"limit": 201}, headers=w.pm), 422)
