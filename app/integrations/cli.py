"""`python -m app integrations sign jira|slack FILE`: a curl command that delivers FILE
signed the way Jira (X-Hub-Signature) or Slack (X-Slack-Signature, now) would sign it."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from slack_sdk.signature import SignatureVerifier

from app.config import get_settings
from app.integrations.jira.service import sign as jira_sign


def _sign(args: argparse.Namespace) -> int:
    settings = get_settings()
    raw = Path(args.file).read_bytes()
    base = args.url.rstrip("/") + "/api/v1/integrations"
    if args.kind == "jira":
        if not settings.jira_webhook_secret:
            print("JIRA_WEBHOOK_SECRET is not set", file=sys.stderr)
            return 2
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "X-Atlassian-Webhook-Identifier": str(time.time_ns()),
            "X-Hub-Signature": jira_sign(settings.jira_webhook_secret, raw),
        }
        url = f"{base}/jira/webhook"
    else:
        if not settings.slack_signing_secret:
            print("SLACK_SIGNING_SECRET is not set", file=sys.stderr)
            return 2
        ts = str(int(time.time()))
        is_json = raw.lstrip().startswith(b"{")
        signature = SignatureVerifier(settings.slack_signing_secret).generate_signature(
            timestamp=ts, body=raw
        )
        assert signature is not None  # None only without a timestamp or body
        headers = {
            "Content-Type": "application/json" if is_json else "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        }
        endpoint = (
            "events" if is_json else ("interactions" if raw.startswith(b"payload=") else "commands")
        )
        url = f"{base}/slack/{endpoint}"
    parts = ["curl", "-sS", "-X", "POST", url]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts += ["--data-binary", f"@{args.file}"]
    print(" ".join(shlex.quote(p) for p in parts))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("integrations", help="Jira and Slack helpers").add_subparsers(
        dest="cmd", required=True
    )
    sign = group.add_parser("sign", help="print a curl command delivering FILE, signed")
    sign.add_argument("kind", choices=("jira", "slack"))
    sign.add_argument("file")
    sign.add_argument("--url", default="http://localhost:8000", help="Rounds base URL")
    sign.set_defaults(func=_sign)
