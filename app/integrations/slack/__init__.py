"""The Slack app: `/rounds` commands, the Approve button and the Events API (SPEC §9)."""
