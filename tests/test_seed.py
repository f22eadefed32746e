"""`python -m app seed` (the CLI path) writes demo data that obeys both gates: every item
past the approval gate was approved, each item's approval state agrees with its approval
history, and every done clinical story has a current approved review."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import defaultdict
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.migrate import upgrade
from tests.test_migrations import fresh_url  # noqa: F401  (fixture: a database of its own)


def _rows(url: str, sql: str) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return [dict(r._mapping) for r in await conn.execute(text(sql))]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _as_json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value


def test_seed_obeys_the_gates(fresh_url, tmp_path):  # noqa: F811
    upgrade("head", fresh_url)
    env = {**os.environ, "DATABASE_URL": fresh_url, "VAR_DIR": str(tmp_path), "ENVIRONMENT": "test"}
    done = subprocess.run(
        [sys.executable, "-m", "app", "seed"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # Again, on a database that now has products: one line that says so, no traceback.
    again = subprocess.run(
        [sys.executable, "-m", "app", "seed"], env=env, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 1 and "Traceback" not in again.stderr
    assert again.stderr.strip().count("\n") == 0 and "not empty" in again.stderr
    quiet = subprocess.run(
        [sys.executable, "-m", "app", "seed", "--if-empty"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert quiet.returncode == 0, quiet.stderr[-2000:]

    items = _rows(
        fresh_url, "SELECT id, status, approval_status, approved_by, approved_at FROM roadmap_item"
    )
    approvals = defaultdict(list)
    for a in _rows(
        fresh_url,
        "SELECT roadmap_item_id, approver_sub, approved_at, stale_at FROM roadmap_item_approval",
    ):
        approvals[str(a["roadmap_item_id"])].append(a)
    assert len(items) == 30
    seen = defaultdict(int)
    for item in items:
        history = approvals[str(item["id"])]
        current = [a for a in history if a["stale_at"] is None]
        state = item["approval_status"]
        seen[(item["status"], state)] += 1
        if item["status"] in ("in_progress", "shipped"):
            assert history, f"{item['status']} item without any approval"
        if state == "current":
            assert len(current) == 1
            assert item["approved_by"] == current[0]["approver_sub"]
        elif state == "stale":
            assert history and not current and item["approved_by"] is None
        else:
            assert state == "none" and not history and item["approved_by"] is None
    # The demo shows every state of the gate.
    assert seen[("shipped", "current")] and seen[("in_progress", "current")]
    assert any(state == "stale" for _, state in seen)

    reviews = defaultdict(list)
    for r in _rows(
        fresh_url, "SELECT story_id, status, reviewer_sub, ended_at, end_reason FROM story_review"
    ):
        reviews[str(r["story_id"])].append(r)
    stories = _rows(
        fresh_url, "SELECT id, status, clinical_review_required, clinical_review FROM story"
    )
    assert len(stories) == 165
    resets = 0
    for story in stories:
        review = _as_json(story["clinical_review"]) or {}
        current = [r for r in reviews[str(story["id"])] if r["ended_at"] is None]
        if story["status"] == "done" and story["clinical_review_required"]:
            assert review["status"] == "approved"
            assert [r["status"] for r in current] == ["approved"]
        if review.get("status") in ("approved", "changes_requested"):
            assert len(current) == 1 and current[0]["reviewer_sub"] == review["reviewer_sub"]
        else:
            assert current == []
        resets += sum(r["end_reason"] == "content_changed" for r in reviews[str(story["id"])])
    assert resets >= 1, "the demo shows a review reset by a content change"
