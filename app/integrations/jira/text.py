"""Jira descriptions as readable plain text: Atlassian Document Format (REST v3 / some
Cloud deliveries) and wiki markup (webhooks of Jira Server and REST v2)."""

from __future__ import annotations

import re
from typing import Any

MAX_DEPTH = 50  # ADF nests; a hostile document must not exhaust the stack


def plain_text(value: Any) -> str:
    """Plain text of a Jira description: ADF (a dict), wiki markup (a string) or nothing."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return _tidy(_adf(value, 0))
    if isinstance(value, str):
        return _tidy(wiki_to_text(value))
    return ""


_BLOCKS = {"paragraph", "heading", "blockquote", "codeBlock", "panel", "rule", "mediaGroup"}


def _adf(node: Any, depth: int) -> str:
    if depth > MAX_DEPTH or not isinstance(node, dict):
        return ""
    kind = node.get("type")
    attrs: dict[str, Any] = a if isinstance(a := node.get("attrs"), dict) else {}
    if kind == "text":
        text = node.get("text")
        return text if isinstance(text, str) else ""
    if kind == "hardBreak":
        return "\n"
    if kind == "rule":
        return "\n\n"
    if kind in ("mention", "emoji", "status", "date", "inlineCard", "blockCard"):
        for name in ("text", "shortName", "url", "timestamp"):
            if isinstance(attrs.get(name), str):
                return attrs[name]
        return ""
    children = node.get("content")
    parts = [_adf(c, depth + 1) for c in children] if isinstance(children, list) else []
    if kind in ("bulletList", "orderedList"):
        items = []
        for n, part in enumerate(parts, start=1):
            mark = f"{n}." if kind == "orderedList" else "-"
            items.append(f"{mark} " + part.strip().replace("\n", "\n  "))
        return "\n".join(items) + "\n\n"
    if kind == "listItem":
        return "\n".join(p.strip() for p in parts if p.strip())
    if kind == "tableRow":
        return " | ".join(p.strip() for p in parts) + "\n"
    if kind in ("table",):
        return "".join(parts) + "\n"
    if kind in ("tableCell", "tableHeader"):
        return " ".join(p.strip() for p in parts)
    joined = "".join(parts)
    if kind in _BLOCKS:
        return joined.strip("\n") + "\n\n"
    return joined


_CODE = re.compile(r"\{(code|noformat)(?::[^}]*)?\}(.*?)\{\1\}", re.S)
_PANEL = re.compile(r"\{(?:panel|quote|color)(?::[^}]*)?\}")
_LINK = re.compile(r"\[([^\]|\n]*)\|([^\]\n]*)\]")
_BARE_LINK = re.compile(r"\[(?:~)?([^\]\n]+)\]")
_IMAGE = re.compile(r"![^!\n]+!")
_HEADING = re.compile(r"^h[1-6]\.\s*", re.M)
_BULLET = re.compile(r"^([*#-]+)\s+", re.M)
_TABLE = re.compile(r"\|\|?")
_MONO = re.compile(r"\{\{(.+?)\}\}")
_EFFECTS = [
    (re.compile(r"(?<![\w*])\*(\S(?:[^*\n]*\S)?)\*(?![\w*])"), r"\1"),  # bold
    (re.compile(r"(?<![\w_])_(\S(?:[^_\n]*\S)?)_(?![\w_])"), r"\1"),  # italic
    (re.compile(r"(?<![\w+])\+(\S(?:[^+\n]*\S)?)\+(?![\w+])"), r"\1"),  # underline
    (re.compile(r"(?<![\w-])-(\S(?:[^-\n]*\S)?)-(?![\w-])"), r"\1"),  # strikethrough
    (re.compile(r"\?\?(.+?)\?\?"), r"\1"),  # citation
    (re.compile(r"\^(.+?)\^"), r"\1"),  # superscript
    (re.compile(r"~(.+?)~"), r"\1"),  # subscript
]


def wiki_to_text(text: str) -> str:
    """Jira wiki markup without its markup (code blocks keep their content)."""
    blocks: list[str] = []

    def keep(m: re.Match[str]) -> str:
        blocks.append(m.group(2).strip("\n"))
        return f"\x00{len(blocks) - 1}\x00"

    out = _MONO.sub(r"\1", text.replace("\r\n", "\n"))
    out = _CODE.sub(keep, out)
    out = _PANEL.sub("", out)
    out = _IMAGE.sub("", out)
    out = _LINK.sub(lambda m: m.group(1).strip() or m.group(2).strip(), out)
    out = _BARE_LINK.sub(r"\1", out)
    out = _HEADING.sub("", out)
    out = _BULLET.sub(lambda m: "  " * (len(m.group(1)) - 1) + "- ", out)
    lines = []
    for line in out.split("\n"):
        if line.startswith("|"):
            cells = [c.strip() for c in _TABLE.split(line.strip().strip("|"))]
            line = " | ".join(c for c in cells if c)
        for pattern, repl in _EFFECTS:
            line = pattern.sub(repl, line)
        lines.append(line)
    out = "\n".join(lines).replace("\\\\", "\n")
    return re.sub(r"\x00(\d+)\x00", lambda m: blocks[int(m.group(1))], out)


def _tidy(text: str) -> str:
    text = text.replace("\x00", "")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()
