"""Every Slack message Rounds sends, built with slack_sdk's Block Kit models so each one is
valid Block Kit by construction (the models validate lengths and shapes in `to_dict`).

Messages carry what a PM wants to see in a channel — key, title, status, points, horizon,
RICE, who approved — and never interviews or insight quotes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from app.roadmap.models import RoadmapItem
from app.stories.models import Story

APPROVE_ACTION = "approve_roadmap_item"
MAX_ROWS = 15  # Slack allows 50 blocks per message; a list stays readable at this size


def esc(text: Any) -> str:
    """Text safe inside Slack mrkdwn (&, <, > are control characters there)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def message(
    text: str, blocks: Sequence[Block], *, share: bool = False, **extra: Any
) -> dict[str, Any]:
    """A slash-command / interaction response (ephemeral unless shared)."""
    return {
        "response_type": "in_channel" if share else "ephemeral",
        "text": _short(text, 3000),
        "blocks": [b.to_dict() for b in blocks],
        **extra,
    }


def section(markdown: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=_short(markdown, 3000)))


def context(markdown: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=_short(markdown, 2000))])


HELP_LINES = (
    "`/rounds story SEPSIS-12` — one story: status, points, sprint, Jira sync",
    "`/rounds roadmap SEPSIS [now|next|later]` — a product's roadmap by RICE score",
    "`/rounds search alert fatigue` — stories and roadmap items whose title matches",
    "`/rounds approvals` — roadmap items waiting for an exec's approval",
    "`/rounds link` — a one-time code to link your Slack account to Rounds",
    "Add `--share` to post the answer to the channel instead of only to you.",
)


def help_message(note: str | None = None) -> dict[str, Any]:
    blocks: list[Block] = []
    if note:
        blocks.append(section(esc(note)))
    blocks.append(section("*Rounds commands*\n" + "\n".join(HELP_LINES)))
    return message(
        (note + " " if note else "") + "Rounds commands: story, roadmap, search, approvals, link.",
        blocks,
    )


def not_linked_message() -> dict[str, Any]:
    text = (
        "Your Slack account is not linked to Rounds yet. Type `/rounds link` to get a one-time "
        "code, then confirm it while signed in to Rounds (POST /api/v1/me/slack-link), or ask "
        "a Rounds admin to link you."
    )
    return message(text, [section(text)])


def link_code_message(code: str, minutes: int) -> dict[str, Any]:
    text = (
        f"Your one-time Rounds link code is *{code}* (valid for {minutes} minutes). While "
        "signed in to Rounds, confirm it with POST /api/v1/me/slack-link "
        f'{{"code": "{code}"}}. Do not share it.'
    )
    return message(text, [section(text)])


def error_message(text: str) -> dict[str, Any]:
    return message(text, [section(esc(text))])


def _story_status(story: Story) -> str:
    parts = [f"*{esc(story.status)}*"]
    if story.story_points is not None:
        parts.append(f"{story.story_points} pts")
    if story.sprint:
        parts.append(f"sprint {esc(story.sprint)}")
    return " · ".join(parts)


def story_message(story: Story, *, share: bool) -> dict[str, Any]:
    lines = [f"*{esc(story.key)}* {esc(story.title)}", _story_status(story)]
    review = story.clinical_review or {}
    if story.clinical_review_required:
        lines.append(f"Clinical review: {esc(review.get('status', 'pending'))}")
    facts = []
    if story.jira_key:
        sync = story.jira_sync or {}
        state = sync.get("state")
        facts.append(f"Jira {esc(story.jira_key)}" + (f" ({esc(state)})" if state else ""))
        if state == "conflict" and sync.get("detail"):
            facts.append(esc(_short(sync["detail"], 500)))
    if story.labels:
        facts.append("Labels: " + esc(", ".join(story.labels)))
    blocks: list[Block] = [section("\n".join(lines))]
    if facts:
        blocks.append(context(" · ".join(facts)))
    return message(f"{story.key} {story.title} — {story.status}", blocks, share=share)


def _rice(item: RoadmapItem) -> str:
    return f"RICE {item.rice_score:.1f}" if item.rice_score is not None else "RICE —"


def _item_line(item: RoadmapItem) -> str:
    bits = [esc(item.status), esc(item.horizon), _rice(item)]
    if item.target_quarter:
        bits.append(esc(item.target_quarter))
    approved = f"approved by {esc(item.approved_by)}" if item.approved_by else "not approved"
    return f"*{esc(item.title)}*\n" + " · ".join(bits) + f" · {approved}"


def approve_button(item: RoadmapItem) -> ButtonElement:
    return ButtonElement(
        text="Approve",
        action_id=APPROVE_ACTION,
        value=str(item.id),
        style="primary",
    )


def roadmap_message(
    product_key: str,
    product_name: str,
    items: Sequence[RoadmapItem],
    horizon: str | None,
    *,
    share: bool,
) -> dict[str, Any]:
    title = f"{product_key} roadmap" + (f" · {horizon}" if horizon else "")
    blocks: list[Block] = [HeaderBlock(text=_short(title, 150)), context(esc(product_name))]
    if not items:
        blocks.append(section("No roadmap items" + (f" in {horizon}" if horizon else "") + "."))
    for item in items[:MAX_ROWS]:
        blocks.append(section(_item_line(item)))
    if len(items) > MAX_ROWS:
        blocks.append(context(f"…and {len(items) - MAX_ROWS} more, highest RICE first."))
    return message(f"{title}: {len(items)} items", blocks, share=share)


def approvals_message(items: Sequence[RoadmapItem], *, share: bool) -> dict[str, Any]:
    blocks: list[Block] = [HeaderBlock(text="Waiting for exec approval")]
    if not items:
        blocks.append(section("Nothing is waiting for approval."))
    for item in items[:MAX_ROWS]:
        blocks.append(section(_item_line(item)))
        blocks.append(ActionsBlock(elements=[approve_button(item)]))
    if len(items) > MAX_ROWS:
        blocks.append(context(f"…and {len(items) - MAX_ROWS} more."))
    return message(f"{len(items)} roadmap items waiting for approval", blocks, share=share)


def search_message(
    words: str, stories: Sequence[Story], items: Sequence[RoadmapItem], *, share: bool
) -> dict[str, Any]:
    blocks: list[Block] = [section(f"Results for *{esc(_short(words, 100))}*")]
    if not stories and not items:
        blocks.append(context("No story or roadmap item you can read matches."))
    for story in stories[:MAX_ROWS]:
        blocks.append(
            section(f"Story *{esc(story.key)}* {esc(story.title)}\n{_story_status(story)}")
        )
    if items:
        blocks.append(DividerBlock())
    for item in items[:MAX_ROWS]:
        blocks.append(section("Roadmap " + _item_line(item)))
    total = len(stories) + len(items)
    return message(f"{total} results for {_short(words, 100)}", blocks, share=share)


def approved_message(item: RoadmapItem) -> dict[str, Any]:
    text = f"Approved *{esc(item.title)}* · {_rice(item)} · approved by {esc(item.approved_by)}"
    return message(f"Approved {item.title}", [section(text)], share=False, replace_original=False)
