"""Jira → Rounds sync: `POST /api/v1/integrations/jira/webhook` (SPEC §9)."""
