"""Roadmap item status moves (SPEC §3, §12) as data, and the exec-approval gate on them.

    proposed ⇄ planned → in_progress → shipped    (forward jumps too, e.g. proposed → shipped)
    in_progress → planned                          (pause: one step back)
    proposed | planned | in_progress → cancelled   (cancel any open item)
    shipped → in_progress                          (reopen a shipped item)
    cancelled → proposed                           (reopen a cancelled item: starts over)

Every move that enters or passes in_progress — i.e. whose target is in_progress or shipped —
needs a *current* exec approval (one not made stale by a later material change)."""

from __future__ import annotations

from app.roadmap.schemas import RoadmapStatus as S

MOVES: dict[str, tuple[S, ...]] = {
    S.PROPOSED: (S.PLANNED, S.IN_PROGRESS, S.SHIPPED, S.CANCELLED),
    S.PLANNED: (S.PROPOSED, S.IN_PROGRESS, S.SHIPPED, S.CANCELLED),
    S.IN_PROGRESS: (S.PLANNED, S.SHIPPED, S.CANCELLED),
    S.SHIPPED: (S.IN_PROGRESS,),
    S.CANCELLED: (S.PROPOSED,),
}
# Targets that enter or pass in_progress: they need a current approval.
GATED: frozenset[str] = frozenset({S.IN_PROGRESS, S.SHIPPED})
# A new item may start in any status that needs no approval (none can exist yet); creating
# one in_progress or shipped is 409 "approval required".
INITIAL: tuple[str, ...] = (S.PROPOSED, S.PLANNED, S.CANCELLED)
# Reopening a cancelled item ends its approval: the commitment was withdrawn.
ENDS_APPROVAL: frozenset[tuple[str, str]] = frozenset({(S.CANCELLED, S.PROPOSED)})


def moves(current: str) -> list[str]:
    """Every status reachable from `current`, approval aside."""
    return [s.value for s in MOVES.get(current, ())]


def needs_approval(target: str) -> bool:
    return target in GATED


def allowed_now(current: str, *, approved: bool) -> list[str]:
    """The moves from `current` that would succeed with the item's approval state."""
    return [s for s in moves(current) if approved or not needs_approval(s)]


def blocked_by_approval(current: str, *, approved: bool) -> list[str]:
    """The moves from `current` that only a current approval would unlock."""
    return [] if approved else [s for s in moves(current) if needs_approval(s)]
