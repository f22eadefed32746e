"""No participant-name oracle (issue 19 item 10): a caller without the interview's full PHI
who writes text that is PHI-scanned (an insight quote, an interview summary) gets the same
answer — response, `phi_detected`, and what it reads back later — whether or not a guessed
name is the participant's. The participant's name is matched only for writers who may see it.
"""

from __future__ import annotations

import pytest

from tests.api.factories import make_world
from tests.graphql.helpers import gql

pytestmark = pytest.mark.asyncio

PARTICIPANT = "Xqvorth Brandywine"
RIGHT, WRONG = "Xqvorth", "Yqvorth"


def _neutral(body: dict, guess: str) -> dict:
    """The answer with the guess itself, ids and timestamps taken out."""
    drop = {"id", "created_at", "updated_at"}
    return {
        k: (v.replace(guess, "<guess>") if isinstance(v, str) else v)
        for k, v in body.items()
        if k not in drop
    }


async def _setup(client, auth):
    w = await make_world(client, auth)
    interview = await w.interview(participant_name=PARTICIPANT, transcript="Notes.")
    clin = await w.member("clinician")  # a member who did not conduct it: redacted view
    return w, interview, clin


async def test_insight_quote_answers_do_not_depend_on_the_name(client, auth):
    _w, interview, clin = await _setup(client, auth)
    answers = []
    for guess in (RIGHT, WRONG):
        r = await client.post(
            "/api/v1/insights",
            json={"interview_id": interview["id"], "title": "Said", "quote": f"{guess} said"},
            headers=clin,
        )
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["redacted"] is True
        again = await client.get(f"/api/v1/insights/{created['id']}", headers=clin)
        patched = await client.patch(
            f"/api/v1/insights/{created['id']}",
            json={"quote": f"later {guess} said"},
            headers=clin,
        )
        assert patched.status_code == 200, patched.text
        answers.append(
            [
                _neutral(created, guess),
                _neutral(again.json(), guess),
                _neutral(patched.json(), guess),
            ]
        )
    assert answers[0] == answers[1]
    # Either both guesses are redacted by context ("X said" reads as a person) or neither is:
    # the participant's name itself never singles one out.
    assert answers[0][0]["quote"] in ("<guess> said", "[NAME] said")


async def test_insight_quote_graphql_is_the_same(client, auth):
    _w, interview, clin = await _setup(client, auth)
    answers = []
    for guess in (RIGHT, WRONG):
        status, body = await gql(
            client,
            "mutation($input: InsightCreateInput!) { createInsight(input: $input) "
            "{ quote phiDetected redacted } }",
            {"input": {"interviewId": interview["id"], "title": "Said", "quote": f"{guess} said"}},
            headers=clin,
        )
        assert status == 200, body
        answers.append(_neutral(body["data"]["createInsight"], guess))
    assert answers[0] == answers[1]


async def test_full_phi_writer_still_gets_the_name_redacted_for_others(client, auth):
    """The PM knows the name: matching it is no oracle, and redacted readers are protected."""
    w, interview, clin = await _setup(client, auth)
    made = await w.insight(interview["id"], quote=f"{RIGHT} said the alert is late")
    assert made["redacted"] is False and made["phi_detected"] is True
    seen = (await client.get(f"/api/v1/insights/{made['id']}", headers=clin)).json()
    assert RIGHT not in seen["quote"] and seen["quote"].startswith("[NAME]")


async def test_interview_summary_update_does_not_depend_on_the_name(client, auth):
    _w, interview, clin = await _setup(client, auth)
    answers = []
    for guess in (RIGHT, WRONG):
        r = await client.patch(
            f"/api/v1/interviews/{interview['id']}",
            json={"summary": f"{guess} prefers mornings"},
            headers=clin,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["redacted"] is True
        answers.append((body["summary"].replace(guess, "<guess>"), body["phi_categories"]))
    assert answers[0] == answers[1]
