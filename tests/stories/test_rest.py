"""Stories over REST: keys, Gherkin criteria, rank order, workflow, clinical gate, ETags."""

from __future__ import annotations

import asyncio

import pytest

from app.stories.workflow import allowed_moves
from tests.api.factories import assert_problem, error_locs, make_world, new_sub

URL = "/api/v1/stories"
STATUSES = ["backlog", "ready", "in_progress", "in_review", "done", "wont_do"]


async def test_create_get_by_id_and_key_update_archive(client, auth):
    w = await make_world(client, auth)
    item = await w.roadmap_item()
    r = await client.post(
        URL,
        json={
            "product_id": w.pid,
            "roadmap_item_id": item["id"],
            "title": "Show the sepsis score",
            "persona": "ICU nurse",
            "as_a": "charge nurse",
            "i_want": "to see the score",
            "so_that": "I escalate early",
            "story_points": 5,
            "sprint": "2026-S3",
            "labels": ["ui", "alerting"],
            "jira_key": f"{w.key}-77",
        },
        headers=w.pm,
    )
    assert r.status_code == 201, r.text
    story = r.json()
    assert story["key"] == f"{w.key}-1" and story["status"] == "backlog"
    assert story["roadmap_item_id"] == item["id"] and story["story_points"] == 5
    assert story["labels"] == ["ui", "alerting"] and story["evidence_count"] == 0
    assert story["jira_key"] == f"{w.key}-77" and story["sprint"] == "2026-S3"
    assert story["clinical_review_required"] is False and story["clinical_review"] is None
    assert r.headers["etag"] == '"1"'

    by_id = await client.get(f"{URL}/{story['id']}", headers=w.pm)
    by_key = await client.get(f"{URL}/{story['key']}", headers=w.pm)
    by_lower = await client.get(f"{URL}/{story['key'].lower()}", headers=w.pm)
    assert by_id.json() == by_key.json() == by_lower.json() == story
    assert by_key.headers["etag"] == '"1"'
    assert_problem(await client.get(f"{URL}/{w.key}-999", headers=w.pm), 404)
    assert_problem(await client.get(f"{URL}/NOPE", headers=w.pm), 404)

    upd = await client.patch(
        f"{URL}/{story['key']}", json={"title": "Show it", "story_points": None}, headers=w.pm
    )
    assert upd.status_code == 200, upd.text
    assert upd.json()["story_points"] is None and upd.json()["version"] == 2

    gone = await client.delete(f"{URL}/{story['id']}", headers=w.pm)
    assert gone.status_code == 200 and gone.json()["archived_at"] is not None
    assert (await client.get(f"{URL}?product_id={w.pid}", headers=w.pm)).json()["data"] == []
    with_archived = await client.get(
        f"{URL}?product_id={w.pid}&include_archived=true", headers=w.pm
    )
    assert [s["id"] for s in with_archived.json()["data"]] == [story["id"]]


async def test_keys_increase_per_product_and_are_never_reused(client, auth):
    w = await make_world(client, auth)
    other = await make_world(client, auth)
    first = [await w.story() for _ in range(3)]
    assert [s["key"] for s in first] == [f"{w.key}-1", f"{w.key}-2", f"{w.key}-3"]
    assert (await other.story())["key"] == f"{other.key}-1"
    await client.delete(f"{URL}/{first[2]['id']}", headers=w.pm)
    await client.delete(f"{URL}/{first[1]['id']}", headers=w.pm)
    nxt = await w.story()
    assert nxt["key"] == f"{w.key}-4", "an archived story's number is not reused"
    # A failed create does not burn or reuse a number in a way that clashes later.
    bad = await client.post(
        URL, json={"product_id": w.pid, "title": "x", "story_points": 4}, headers=w.pm
    )
    assert_problem(bad, 422)
    assert (await w.story())["key"] == f"{w.key}-5"
    # The archived key still resolves to its own story.
    r = await client.get(f"{URL}/{w.key}-3", headers=w.pm)
    assert r.json()["id"] == first[2]["id"] and r.json()["archived_at"] is not None


async def test_a_new_story_leaves_its_product_unchanged(client, auth):
    """Taking a story number bumps only the product's counter (`story_counter`): not the
    product's updated_at (a new story is not a change of the product) nor its ETag."""
    w = await make_world(client, auth)
    before = await client.get(f"/api/v1/products/{w.pid}", headers=w.pm)
    await w.story()
    await w.story()
    after = await client.get(f"/api/v1/products/{w.pid}", headers=w.pm)
    assert after.json()["updated_at"] == before.json()["updated_at"]
    assert after.headers["etag"] == before.headers["etag"]
    assert (await w.story())["key"] == f"{w.key}-3"


async def test_concurrent_creates_in_one_product_get_distinct_numbers(client, auth):
    """Numbers are taken outside the stories' transactions on PostgreSQL (a short transaction
    of their own): writers racing in one product still never share or skip one."""
    w = await make_world(client, auth)
    stories = await asyncio.gather(*(w.story(title=f"race {n}") for n in range(12)))
    assert sorted(int(s["key"].rsplit("-", 1)[1]) for s in stories) == list(range(1, 13))


async def test_default_order_is_backlog_rank(client, auth):
    w = await make_world(client, auth)
    a = await w.story()
    b = await w.story()
    c = await w.story()
    r = await client.get(f"{URL}?product_id={w.pid}", headers=w.pm)
    assert [s["id"] for s in r.json()["data"]] == [a["id"], b["id"], c["id"]]
    # Moving c to the top of the backlog by giving it a rank before a's.
    await client.patch(f"{URL}/{c['id']}", json={"rank": "0"}, headers=w.pm)
    r = await client.get(f"{URL}?product_id={w.pid}", headers=w.pm)
    assert [s["id"] for s in r.json()["data"]] == [c["id"], a["id"], b["id"]]
    r = await client.get(f"{URL}?product_id={w.pid}&sort=-rank", headers=w.pm)
    assert [s["id"] for s in r.json()["data"]] == [b["id"], a["id"], c["id"]]
    explicit = await w.story(rank="0000000001|m")
    r = await client.get(f"{URL}?product_id={w.pid}", headers=w.pm)
    assert [s["id"] for s in r.json()["data"]] == [c["id"], a["id"], explicit["id"], b["id"]]


async def test_acceptance_criteria_ids(client, auth):
    w = await make_world(client, auth)
    crit = {"given": "a septic patient", "when": "lactate rises", "then": "the nurse is alerted"}
    story = await w.story(
        acceptance_criteria=[
            crit,
            {**crit, "id": "AC-2"},
            crit,
            {**crit, "id": "custom", "met": True},
        ]
    )
    ids = [c["id"] for c in story["acceptance_criteria"]]
    assert ids[1] == "AC-2" and ids[3] == "custom"
    assert len(set(ids)) == 4 and ids[0] == "AC-1" and ids[2] == "AC-3"
    assert [c["met"] for c in story["acceptance_criteria"]] == [False, False, False, True]

    dup = await client.post(
        URL,
        json={
            "product_id": w.pid,
            "title": "x",
            "acceptance_criteria": [{**crit, "id": "A"}, {**crit, "id": "A"}],
        },
        headers=w.pm,
    )
    assert_problem(dup, 422)
    assert ["body", "acceptance_criteria"] in error_locs(dup)

    upd = await client.patch(
        f"{URL}/{story['id']}",
        json={"acceptance_criteria": [{**crit, "id": "AC-1", "met": True}, crit]},
        headers=w.pm,
    )
    assert upd.status_code == 200
    assert [(c["id"], c["met"]) for c in upd.json()["acceptance_criteria"]] == [
        ("AC-1", True),
        ("AC-2", False),
    ]
    for bad in (
        [{"given": "g", "when": "w"}],
        [{**crit, "then": ""}],
        [{**crit, "extra": 1}],
        [{**crit, "met": "yes"}],
        [crit] * 51,
        "not a list",
    ):
        r = await client.patch(
            f"{URL}/{story['id']}", json={"acceptance_criteria": bad}, headers=w.pm
        )
        assert_problem(r, 422)
    assert (await client.get(f"{URL}/{story['id']}", headers=w.pm)).json()["version"] == 2


async def test_filters_roadmap_item_status_sprint(client, auth):
    w = await make_world(client, auth)
    other = await make_world(client, auth)
    item = await w.roadmap_item()
    a = await w.story(roadmap_item_id=item["id"], sprint="S1")
    b = await w.story(status="ready", sprint="S1")
    c = await w.story(roadmap_item_id=item["id"], status="ready", sprint="S2")
    await other.story(sprint="S1")

    async def ids(query: str, scoped: bool = True) -> set[str]:
        prefix = f"product_id={w.pid}&" if scoped else ""
        r = await client.get(f"{URL}?{prefix}{query}", headers=w.pm)
        assert r.status_code == 200, r.text
        return {s["id"] for s in r.json()["data"]}

    assert await ids("") == {a["id"], b["id"], c["id"]}
    assert await ids(f"roadmap_item_id={item['id']}", scoped=False) == {a["id"], c["id"]}
    assert await ids("status=ready") == {b["id"], c["id"]}
    assert await ids("sprint=S1") == {a["id"], b["id"]}
    assert await ids(f"roadmap_item_id={item['id']}&status=ready&sprint=S2") == {c["id"]}
    for bad in ("status=started", "roadmap_item_id=x", "product_id=1"):
        assert_problem(await client.get(f"{URL}?{bad}", headers=w.pm), 422)


async def test_roadmap_item_must_belong_to_the_same_product(client, auth):
    w = await make_world(client, auth)
    other = await make_world(client, auth)
    foreign = await other.roadmap_item()
    r = await client.post(
        URL,
        json={"product_id": w.pid, "title": "x", "roadmap_item_id": foreign["id"]},
        headers=w.pm,
    )
    assert_problem(r, 422)
    assert ["body", "roadmap_item_id"] in error_locs(r)
    story = await w.story()
    for target in (foreign["id"], "01900000-0000-7000-8000-000000000000"):
        r = await client.patch(
            f"{URL}/{story['id']}", json={"roadmap_item_id": target}, headers=w.pm
        )
        assert_problem(r, 422)
    assert (await client.get(f"{URL}/{story['id']}", headers=w.pm)).json() == story


async def test_duplicate_jira_key_is_409(client, auth):
    w = await make_world(client, auth)
    jira = f"{w.key}-{len(w.key) + 100}"
    a = await w.story(jira_key=jira)
    dup = await client.post(
        URL, json={"product_id": w.pid, "title": "x", "jira_key": jira}, headers=w.pm
    )
    assert_problem(dup, 409)
    b = await w.story()
    r = await client.patch(f"{URL}/{b['id']}", json={"jira_key": jira}, headers=w.pm)
    assert_problem(r, 409)
    assert (await client.get(f"{URL}/{b['id']}", headers=w.pm)).json()["jira_key"] is None
    # Re-saving its own key is fine; so is clearing it and giving it to another story.
    assert (
        await client.patch(f"{URL}/{a['id']}", json={"jira_key": jira}, headers=w.pm)
    ).status_code == 200
    await client.patch(f"{URL}/{a['id']}", json={"jira_key": None}, headers=w.pm)
    moved = await client.patch(f"{URL}/{b['id']}", json={"jira_key": jira}, headers=w.pm)
    assert moved.status_code == 200 and moved.json()["jira_key"] == jira
    listed = await client.get(f"{URL}?product_id={w.pid}", headers=w.pm)
    assert len(listed.json()["data"]) == 2


async def _story_in(client, w, status: str) -> dict:
    """A story walked forward to `status` through allowed moves."""
    story = await w.story()
    path = {
        "backlog": [],
        "ready": ["ready"],
        "in_progress": ["ready", "in_progress"],
        "in_review": ["ready", "in_progress", "in_review"],
        "done": ["ready", "in_progress", "in_review", "done"],
        "wont_do": ["wont_do"],
    }[status]
    for s in path:
        r = await client.patch(f"{URL}/{story['id']}", json={"status": s}, headers=w.pm)
        assert r.status_code == 200, r.text
        story = r.json()
    return story


EXPECTED_MOVES = {
    "backlog": {"ready", "wont_do"},
    "ready": {"in_progress", "backlog", "wont_do"},
    "in_progress": {"in_review", "ready", "wont_do"},
    "in_review": {"done", "in_progress", "wont_do"},
    "done": {"in_review", "in_progress", "wont_do"},
    "wont_do": set(),
}


def test_workflow_table_matches_spec():
    for status, moves in EXPECTED_MOVES.items():
        assert set(allowed_moves(status)) == moves, status


@pytest.mark.parametrize(
    ("start", "target"),
    [(s, t) for s, moves in EXPECTED_MOVES.items() for t in sorted(moves)],
)
async def test_every_allowed_move(client, auth, start, target):
    w = await make_world(client, auth)
    story = await _story_in(client, w, start)
    r = await client.patch(f"{URL}/{story['id']}", json={"status": target}, headers=w.pm)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == target and r.json()["version"] == story["version"] + 1


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("backlog", "in_progress"),
        ("backlog", "done"),
        ("backlog", "in_review"),
        ("ready", "done"),
        ("ready", "in_review"),
        ("in_progress", "backlog"),
        ("in_progress", "done"),
        ("in_review", "ready"),
        ("in_review", "backlog"),
        ("done", "backlog"),
        ("done", "ready"),
        ("wont_do", "backlog"),
        ("wont_do", "done"),
    ],
)
async def test_disallowed_move_is_409_naming_allowed(client, auth, start, target):
    w = await make_world(client, auth)
    story = await _story_in(client, w, start)
    r = await client.patch(f"{URL}/{story['id']}", json={"status": target}, headers=w.pm)
    body = assert_problem(r, 409)
    assert set(body["allowed"]) == EXPECTED_MOVES[start]
    for name in EXPECTED_MOVES[start]:
        assert name in body["detail"]
    assert (await client.get(f"{URL}/{story['id']}", headers=w.pm)).json() == story


async def test_same_status_is_a_no_op_and_new_stories_start_early(client, auth):
    w = await make_world(client, auth)
    story = await w.story()
    r = await client.patch(f"{URL}/{story['id']}", json={"status": "backlog"}, headers=w.pm)
    assert r.status_code == 200 and r.json()["version"] == 1
    assert (await w.story(status="ready"))["status"] == "ready"
    for status in ("in_progress", "in_review", "done", "wont_do"):
        r = await client.post(
            URL, json={"product_id": w.pid, "title": "x", "status": status}, headers=w.pm
        )
        assert_problem(r, 422)


async def test_clinical_gate_and_review(client, auth):
    w = await make_world(client, auth)
    clin_sub = new_sub("clin")
    clinician = await w.member("clinician", clin_sub)
    story = await w.story(clinical_review_required=True)
    assert story["clinical_review"]["status"] == "pending"
    assert story["clinical_review"]["reviewer_sub"] is None
    story = await _walk_to_review(client, w, story)
    url = f"{URL}/{story['id']}"

    blocked = await client.patch(url, json={"status": "done"}, headers=w.pm)
    body = assert_problem(blocked, 409)
    assert "A clinician must approve" in body["detail"] and "clinical review" in body["detail"]
    # The refused move is not offered among the allowed ones; the reason says why.
    assert body["reason"] == "review_required"
    assert body["allowed"] == ["in_progress", "wont_do"]
    assert (await client.get(url, headers=w.pm)).json()["status"] == "in_review"

    changes = await client.post(
        f"{url}/clinical-review",
        json={"status": "changes_requested", "comment": "Cite the lactate threshold."},
        headers=clinician,
    )
    assert changes.status_code == 200, changes.text
    review = changes.json()["clinical_review"]
    assert review["status"] == "changes_requested" and review["reviewer_sub"] == clin_sub
    assert review["comment"] == "Cite the lactate threshold." and review["reviewed_at"]
    assert changes.json()["version"] == story["version"] + 1
    assert_problem(await client.patch(url, json={"status": "done"}, headers=w.pm), 409)

    approved = await client.post(
        f"{url}/clinical-review", json={"status": "approved"}, headers=clinician
    )
    assert approved.status_code == 200
    assert approved.json()["clinical_review"]["status"] == "approved"
    done = await client.patch(url, json={"status": "done"}, headers=w.pm)
    assert done.status_code == 200 and done.json()["status"] == "done"


async def _walk_to_review(client, w, story):
    for s in ("ready", "in_progress", "in_review"):
        r = await client.patch(f"{URL}/{story['id']}", json={"status": s}, headers=w.pm)
        assert r.status_code == 200, r.text
    return r.json()


async def test_requiring_review_later_blocks_done_and_reopened_story(client, auth):
    w = await make_world(client, auth)
    story = await _walk_to_review(client, w, await w.story())
    url = f"{URL}/{story['id']}"
    r = await client.patch(
        url, json={"status": "done", "clinical_review_required": True}, headers=w.pm
    )
    assert_problem(r, 409)
    assert (await client.get(url, headers=w.pm)).json()["clinical_review_required"] is False
    r = await client.patch(url, json={"clinical_review_required": True}, headers=w.pm)
    assert r.json()["clinical_review"]["status"] == "pending"
    assert_problem(await client.patch(url, json={"status": "done"}, headers=w.pm), 409)


async def test_clinical_review_rules(client, auth):
    w = await make_world(client, auth)
    clinician = await w.member("clinician")
    plain = await w.story()
    r = await client.post(
        f"{URL}/{plain['id']}/clinical-review", json={"status": "approved"}, headers=clinician
    )
    assert_problem(r, 409)
    assert (await client.get(f"{URL}/{plain['id']}", headers=w.pm)).json() == plain

    story = await w.story(clinical_review_required=True)
    review_url = f"{URL}/{story['id']}/clinical-review"
    outsider = auth("clinician", new_sub("clin"))
    assert_problem(
        await client.post(review_url, json={"status": "approved"}, headers=outsider), 403
    )
    assert_problem(await client.post(review_url, json={"status": "approved"}, headers=w.pm), 403)
    for bad in (
        {"status": "pending"},
        {"status": "ok"},
        {},
        {"status": "approved", "x": 1},
        {"status": "approved", "comment": "c" * 5001},
        {"status": "approved", "comment": 5},
    ):
        assert_problem(await client.post(review_url, json=bad, headers=clinician), 422)
    assert (await client.get(f"{URL}/{story['id']}", headers=w.pm)).json() == story
    missing = f"{URL}/{w.key}-404/clinical-review"
    assert_problem(await client.post(missing, json={"status": "approved"}, headers=clinician), 404)


async def test_etag_if_match(client, auth):
    w = await make_world(client, auth)
    story = await w.story()
    url = f"{URL}/{story['key']}"
    stale = await client.patch(url, json={"title": "n"}, headers={**w.pm, "If-Match": '"2"'})
    assert_problem(stale, 412)
    assert (await client.get(url, headers=w.pm)).json() == story
    ok = await client.patch(url, json={"title": "n"}, headers={**w.pm, "If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    star = await client.patch(url, json={"title": "m"}, headers={**w.pm, "If-Match": "*"})
    assert star.status_code == 200
    listed = await client.patch(url, json={"title": "o"}, headers={**w.pm, "If-Match": '"1", "3"'})
    assert listed.status_code == 200 and listed.json()["version"] == 4
    assert_problem(await client.delete(url, headers={**w.pm, "If-Match": '"3"'}), 412)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"story_points": 4}, "story_points"),
        ({"story_points": 34}, "story_points"),
        ({"story_points": -1}, "story_points"),
        ({"story_points": 2.5}, "story_points"),
        ({"story_points": "3"}, "story_points"),
        ({"status": "started"}, "status"),
        ({"status": None}, "status"),
        ({"title": ""}, "title"),
        ({"title": "t" * 301}, "title"),
        ({"persona": "p" * 101}, "persona"),
        ({"as_a": "a" * 20_001}, "as_a"),
        ({"rank": ""}, "rank"),
        ({"rank": "has space"}, "rank"),
        ({"rank": None}, "rank"),
        ({"sprint": ""}, "sprint"),
        ({"sprint": "s" * 65}, "sprint"),
        ({"labels": ["x" * 51]}, "labels"),
        ({"labels": ["ok"] * 51}, "labels"),
        ({"labels": "ui"}, "labels"),
        ({"jira_key": "lower-1"}, "jira_key"),
        ({"jira_key": "ABC"}, "jira_key"),
        ({"clinical_review_required": "yes"}, "clinical_review_required"),
        ({"clinical_review": {"status": "approved"}}, "clinical_review"),
        ({"key": "X-1"}, "key"),
        ({"product_id": "01900000-0000-7000-8000-000000000000"}, "product_id"),
        ({"evidence_count": 1}, "evidence_count"),
    ],
)
async def test_bad_patch_is_422_and_changes_nothing(client, auth, body, loc):
    w = await make_world(client, auth)
    story = await w.story()
    r = await client.patch(f"{URL}/{story['id']}", json=body, headers=w.pm)
    assert_problem(r, 422)
    assert loc in {tuple(x)[1] for x in error_locs(r) if len(x) > 1}, error_locs(r)
    assert (await client.get(f"{URL}/{story['id']}", headers=w.pm)).json() == story


async def test_story_ref_too_long_is_422(client, auth):
    w = await make_world(client, auth)
    assert_problem(await client.get(f"{URL}/{'A' * 65}", headers=w.pm), 422)
    assert_problem(await client.get(f"{URL}/{'A' * 40}", headers=w.pm), 404)


async def test_only_a_product_manager_can_waive_clinical_review(client, auth):
    w = await make_world(client, auth)
    engineer = await w.member("engineer", new_sub("eng"))
    story = await _walk_to_review(client, w, await w.story(clinical_review_required=True))
    url = f"{URL}/{story['id']}"
    # An engineer cannot switch the gate off on the way to done, in one PATCH or two.
    waive_and_finish = {"clinical_review_required": False, "status": "done"}
    assert_problem(await client.patch(url, json=waive_and_finish, headers=engineer), 403)
    r = await client.patch(url, json={"clinical_review_required": False}, headers=engineer)
    assert_problem(r, 403)
    assert (await client.get(url, headers=w.pm)).json()["clinical_review_required"] is True
    # The member product manager may waive it (a recorded product decision).
    r = await client.patch(url, json={"clinical_review_required": False}, headers=w.pm)
    assert r.status_code == 200 and r.json()["clinical_review_required"] is False
