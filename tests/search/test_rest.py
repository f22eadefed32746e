"""Search over REST on both databases: ranking, prefixes, snippets, cursors, permissions and
redaction (a participant's name never finds, counts or ranks an interview, for any role)."""

from __future__ import annotations

import uuid

import pytest

from tests.api.factories import assert_problem, make_world

URL = "/api/v1/search"
ROLES = ("product_manager", "engineer", "clinician", "exec", "compliance_officer", "admin")


def word(prefix: str = "zq") -> str:
    """A made-up word no other test writes (the suite shares one database)."""
    return prefix + uuid.uuid4().hex[:8].translate(str.maketrans("0123456789", "ghijklmnop"))


async def _search(client, headers, **params) -> dict:
    r = await client.get(URL, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_title_match_ranks_above_body_match_with_snippet(client, auth):
    w = await make_world(client, auth)
    term = word()
    body_hit = await w.story(title="Unrelated title", description=f"Somewhere {term} appears.")
    title_hit = await w.story(title=f"The {term} dashboard")
    await w.story(title="Nothing to see here")
    found = await _search(client, w.pm, q=term)
    assert [h["id"] for h in found["data"]] == [title_hit["id"], body_hit["id"]]
    first, second = found["data"]
    assert first["type"] == "story" and first["product_id"] == w.pid
    assert first["title"] == f"The {term} dashboard"
    assert first["score"] > second["score"] > 0
    assert f"**{term}**" in second["snippet"]
    assert found["next_cursor"] is None


async def test_prefix_matching_and_every_word_must_match(client, auth):
    w = await make_world(client, auth)
    term = word()
    story = await w.story(title=f"Escalation {term} pathway")
    assert [h["id"] for h in (await _search(client, w.pm, q=term[:5]))["data"]] == [story["id"]]
    both = await _search(client, w.pm, q=f"escalat {term}")
    assert [h["id"] for h in both["data"]] == [story["id"]]
    assert (await _search(client, w.pm, q=f"{term} missingword"))["data"] == []


async def test_index_follows_updates_and_archive_in_the_same_transaction(client, auth):
    w = await make_world(client, auth)
    old, new = word(), word()
    story = await w.story(title=f"Before {old}")
    r = await client.patch(
        f"/api/v1/stories/{story['id']}", json={"title": f"After {new}"}, headers=w.pm
    )
    assert r.status_code == 200, r.text
    assert (await _search(client, w.pm, q=old))["data"] == []
    assert [h["id"] for h in (await _search(client, w.pm, q=new))["data"]] == [story["id"]]
    assert (await client.delete(f"/api/v1/stories/{story['id']}", headers=w.pm)).status_code == 200
    assert (await _search(client, w.pm, q=new))["data"] == []


async def test_types_product_filter_and_keyset_pages(client, auth):
    w = await make_world(client, auth)
    other = await make_world(client, auth)
    term = word()
    item = await w.roadmap_item(title=f"Roadmap {term}")
    stories = [await w.story(title=f"Story {term} {n}") for n in range(5)]
    await other.story(title=f"Elsewhere {term}")
    only_items = await _search(client, w.pm, q=term, types="roadmap_item")
    assert [(h["type"], h["id"]) for h in only_items["data"]] == [("roadmap_item", item["id"])]
    in_product = await _search(client, w.pm, q=term, product_id=w.pid, types="story")
    assert {h["id"] for h in in_product["data"]} == {s["id"] for s in stories}
    seen, cursor = [], None
    while True:
        params = {"q": term, "product_id": w.pid, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await _search(client, w.pm, **params)
        seen += [h["id"] for h in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 6
    assert set(seen) == {item["id"], *(s["id"] for s in stories)}


async def test_a_query_without_words_finds_nothing(client, auth):
    """Any text of 1-200 characters is a valid q (as published); words are letters and
    digits, so only punctuation matches nothing rather than being refused."""
    w = await make_world(client, auth)
    await w.story(title="Alarm fatigue")
    assert (await _search(client, w.pm, q="  !!  "))["data"] == []
    assert (await _search(client, w.pm, q="¡>"))["data"] == []


async def test_bad_input_is_a_problem(client, auth):
    w = await make_world(client, auth)
    assert_problem(await client.get(URL, params={"q": "x", "types": "user"}, headers=w.pm), 422)
    # types exactly as published: names separated by commas, no blanks or empty items.
    for types in ("story, insight", "story,,insight", "story,", ""):
        r = await client.get(URL, params={"q": "x", "types": types}, headers=w.pm)
        assert_problem(r, 422)
    assert_problem(await client.get(URL, params={"q": "x", "cursor": "nope"}, headers=w.pm), 422)
    assert_problem(await client.get(URL, params={"q": "x" * 201}, headers=w.pm), 422)
    assert_problem(await client.get(URL, params={"q": "x"}), 401)


async def test_member_only_types_are_filtered_inside_the_query(client, auth):
    w = await make_world(client, auth)
    term = word()
    interview = await w.interview(title=f"Walkthrough {term}", summary=f"Nurses said {term}.")
    insight = await w.insight(interview["id"], title=f"Insight {term}")
    story = await w.story(title=f"Story {term}")
    member_eng = await w.member("engineer")
    outsider_eng = auth("engineer", f"eng-{uuid.uuid4().hex[:8]}")
    exec_ = auth("exec", f"exec-{uuid.uuid4().hex[:8]}")
    co = auth("compliance_officer", f"co-{uuid.uuid4().hex[:8]}")

    def ids(found):
        return {(h["type"], h["id"]) for h in found["data"]}

    everything = {
        ("interview", interview["id"]),
        ("insight", insight["id"]),
        ("story", story["id"]),
    }
    assert ids(await _search(client, w.pm, q=term)) == everything
    assert ids(await _search(client, member_eng, q=term)) == everything
    assert ids(await _search(client, co, q=term)) == everything
    # exec: insights on any product, never interviews; a non-member engineer: stories only
    assert ids(await _search(client, exec_, q=term)) == everything - {
        ("interview", interview["id"])
    }
    assert ids(await _search(client, outsider_eng, q=term)) == {("story", story["id"])}


@pytest.mark.parametrize("role", ROLES)
async def test_participant_name_never_finds_an_interview(client, auth, role):
    w = await make_world(client, auth)
    first, last = word("Xq").capitalize(), word("Vb").capitalize()
    contact = f"{word('m')}@example.org"
    interview = await w.interview(
        title="Ward round walkthrough",
        participant_name=f"{first} {last}",
        participant_contact=contact,
        transcript=f"{first} {last} told us the alarms are late. Reach me at {contact}.",
        summary=f"{first} says alarms are late.",
    )
    await w.insight(interview["id"], title="Late alarms", quote=f"{first} {last}: too late")
    headers = w.pm if role == "product_manager" else await w.member(role)
    for q in (first, last, f"{first} {last}", contact.split("@")[0]):
        found = await _search(client, headers, q=q)
        assert found == {"data": [], "next_cursor": None}, (role, q)
    # the redacted text is searchable: the interview exists for those who may read it
    alarms = await _search(client, headers, q="alarms", product_id=w.pid, types="interview")
    readable = role in ("product_manager", "engineer", "clinician", "compliance_officer")
    assert [h["id"] for h in alarms["data"]] == ([interview["id"]] if readable else [])
    for hit in alarms["data"]:
        assert first not in hit["snippet"] and last not in hit["snippet"]


async def test_search_is_audited_with_the_ids_served(client, auth, settings):
    w = await make_world(client, auth)
    term = word()
    story = await w.story(title=f"Audited {term}")
    await _search(client, w.pm, q=term)
    co = auth("compliance_officer", "co-audit-search")
    r = await client.get("/api/v1/audit-events", params={"actor_sub": w.pm_sub}, headers=co)
    assert r.status_code == 200, r.text
    newest = r.json()["data"][0]
    assert newest["action"] == "search" and newest["resource_type"] == "story"
    assert newest["resource_ids"] == [story["id"]] and newest["path"] == URL
