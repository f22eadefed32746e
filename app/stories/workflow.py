"""Story status transitions (SPEC §3) as data."""

from __future__ import annotations

from app.stories.schemas import StoryStatus as S

FORWARD = [S.BACKLOG, S.READY, S.IN_PROGRESS, S.IN_REVIEW, S.DONE]


def allowed_moves(current: str) -> list[str]:
    """Statuses reachable from `current`: one step on or back, wont_do, done→in_progress."""
    allowed: list[S] = []
    if current in FORWARD:
        i = FORWARD.index(S(current))
        if i + 1 < len(FORWARD):
            allowed.append(FORWARD[i + 1])
        if i > 0:
            allowed.append(FORWARD[i - 1])
        allowed.append(S.WONT_DO)
    if current == S.DONE:
        allowed.append(S.IN_PROGRESS)
    seen: list[str] = []
    for s in allowed:
        if s.value not in seen:
            seen.append(s.value)
    return seen
