"""Operations (SPEC §11): request ids, JSON access logs, metrics, tracing, rate limits,
security headers, CORS, and the production self-check. docs/operations.md is the guide."""
