"""Built-in integrations (SPEC §9): Jira webhooks and the Slack app, each acting as its own
service principal through the same services, permission table and audit as the API."""
