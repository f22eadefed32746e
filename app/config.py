"""Settings: read once from the environment, injected everywhere else."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.settings_check import UnsafeSettings, production_problems, startup_message

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./var/rounds.db"


class Settings(BaseSettings):
    """Every knob of the service; see README 'Settings' for the meaning of each."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_SQLITE_URL
    db_pool_size: int = 10
    db_echo: bool = False
    var_dir: Path = Path("var")

    # Built-in issuer (development/tests) and external IdP.
    auth_issuer: str = "rounds-dev"
    auth_audience: str = "rounds-api"
    auth_jwks_url: str | None = None
    auth_role_claim: str = "role"
    auth_signing_key: str | None = Field(default=None, repr=False)
    auth_leeway_seconds: int = 30
    auth_jwks_cache_seconds: int = 3600
    auth_jwks_min_refetch_seconds: int = 30
    access_token_ttl_seconds: int = 3600

    # PHI encryption: "kid:base64key" pairs separated by commas, first one is current.
    phi_keys: str | None = Field(default=None, repr=False)
    # Threads per process that run the PHI detector on large texts (app/phi/scan.py).
    phi_scan_workers: int = Field(default=2, ge=1, le=64)

    # Audit
    audit_enabled: bool = True
    # Events of reads and failed requests share commits on PostgreSQL (app/audit/batcher.py).
    audit_group_commit: bool = True
    trusted_proxies: str = "127.0.0.1,::1"

    # Runtime: GC tuning in server processes (see app/core/runtime.py)
    gc_tuning: bool = True

    # HTTP
    max_body_bytes: int = 1024 * 1024
    cors_origins: str = ""

    # GraphQL
    graphql_explorer: bool | None = None
    graphql_introspection: bool | None = None
    graphql_max_depth: int = 10
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 2000
    graphql_fastpath: bool = True  # compiled executor, lean POST route (docs/graphql.md)

    # Exposure (issue 19): links, hosts, documents, request limits, GraphQL GET and cost.
    public_base_url: str | None = None  # e.g. https://rounds.example.org; unset → relative links
    allowed_hosts: str = "*"  # comma-separated Host names (TrustedHostMiddleware)
    openapi_public: bool | None = None  # /openapi.json; off in production unless set
    max_header_bytes: int = 64 * 1024  # total request header size; above → 431
    graphql_get_queries: bool | None = None  # queries via GET; only in development unless set
    graphql_max_cost: int = 10_000  # estimated nodes a document may ask for (app/graphql/limits)

    # Integrations
    jira_webhook_secret: str | None = Field(default=None, repr=False)
    slack_signing_secret: str | None = Field(default=None, repr=False)
    # The Jira field that holds story points (Cloud's "Story point estimate" by default).
    jira_story_points_field: str = "customfield_10016"

    # --- Operations (SPEC §11; docs/operations.md) ------------------------------------------
    # /metrics: open outside production; production requires METRICS_TOKEN (Bearer).
    metrics_enabled: bool = True
    metrics_token: str | None = Field(default=None, repr=False)
    # One JSON line per request (structlog) on the "rounds.access" logger.
    access_log: bool = True
    log_level: str = "INFO"
    # OpenTelemetry tracing: on only when an OTLP endpoint is configured.
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = "rounds"
    # Rate limits ("N/second|minute|hour", the `limits` notation; empty = off).
    redis_url: str | None = Field(default=None, repr=False)
    rate_limit_namespace: str = "rounds"
    rate_limit_oauth_per_ip: str = "60/minute"
    rate_limit_oauth_per_client: str = "20/minute"
    rate_limit_integrations_per_source: str = "600/minute"
    # Per principal on /api and /graphql: off outside production unless set (benchmarks drive
    # one principal at ~1000 req/s); production default in effective_rate_limit_api.
    rate_limit_api: str | None = None
    # Signed checkpoints of the audit chain head, outside the database (truncation evidence).
    audit_checkpoint_dir: Path | None = None
    audit_checkpoint_seconds: float = 60.0

    @property
    def effective_rate_limit_api(self) -> str:
        if self.rate_limit_api is not None:
            return self.rate_limit_api
        return "6000/minute" if self.is_production else ""

    @property
    def checkpoint_dir(self) -> Path:
        return self.audit_checkpoint_dir or self.var_dir / "audit-checkpoints"

    def operations_problems(self) -> list[str]:
        """Unsafe production settings, one line each naming the setting to fix (used by the
        start-up validation and by `python -m app check`)."""
        if not self.is_production:
            return []
        # Audit, DB_ECHO, explorer and the rest: app/core/settings_check.production_problems.
        problems = []
        origins = [o.strip() for o in self.cors_origins.split(",") if o.strip()]
        if "*" in origins:
            problems.append("CORS_ORIGINS: '*' is refused in production, list the origins")
        if self.metrics_enabled and not self.metrics_token:
            problems.append("METRICS_TOKEN: required in production while METRICS_ENABLED is on")
        for name in ("rate_limit_oauth_per_ip", "rate_limit_oauth_per_client"):
            if not getattr(self, name):
                problems.append(f"{name.upper()}: must be set in production")
        return problems

    # --- end Operations ---------------------------------------------------------------------

    # Change feed (app/feed, docs/change-feed.md): webhook delivery and Idempotency-Key.
    feed_outbox: bool = True  # only for benchmarks (outbox cost); production keeps it on
    webhook_worker: bool = True  # deliver from inside the app process (lifespan task)
    webhook_allow_private: bool = False  # loopback/private targets: development and tests only
    # Seconds to wait after the 1st, 2nd, … failed attempt; then the delivery is given up.
    webhook_retry_schedule: str = "5,300,1800,7200,18000,36000,50400,72000,86400"
    webhook_disable_after_seconds: float = 5 * 86400  # failing this long deactivates
    webhook_timeout_seconds: float = 10.0  # a 2xx within this is success
    webhook_lease_seconds: float = 60.0  # a claimed attempt unfinished after this is retried
    webhook_poll_seconds: float = 1.0  # worker wake-up without a notification
    # After a NOTIFY to the other processes, the next waits this long and carries all that was
    # committed meanwhile (one NOTIFY per write costs the writes; app/feed/hub.py).
    feed_notify_every_seconds: float = Field(default=0.05, ge=0, le=1)
    idempotency_ttl_seconds: int = 24 * 3600
    idempotency_lease_seconds: float = 60.0  # an in-flight key older than this was abandoned

    @property
    def webhook_backoff(self) -> tuple[float, ...]:
        return tuple(float(x) for x in self.webhook_retry_schedule.split(",") if x.strip())

    def feed_problems(self) -> list[str]:
        """The change feed's production refusals (joined to the start-up check's list)."""
        if not self.is_production:
            return []
        problems = []
        if self.webhook_allow_private:
            problems.append("WEBHOOK_ALLOW_PRIVATE: must be false (webhooks to private addresses)")
        if not self.feed_outbox:
            problems.append("FEED_OUTBOX: must stay true (webhooks would miss changes)")
        return problems

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def explorer_enabled(self) -> bool:
        return (not self.is_production) if self.graphql_explorer is None else self.graphql_explorer

    @property
    def introspection_enabled(self) -> bool:
        if self.graphql_introspection is None:
            return not self.is_production
        return self.graphql_introspection

    @property
    def openapi_enabled(self) -> bool:
        return (not self.is_production) if self.openapi_public is None else self.openapi_public

    @property
    def graphql_get_enabled(self) -> bool:
        if self.graphql_get_queries is None:
            return self.environment == "development"
        return self.graphql_get_queries

    @property
    def allowed_host_list(self) -> list[str]:
        return [h.strip() for h in self.allowed_hosts.split(",") if h.strip()] or ["*"]

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Settings:
        if self.is_production and (
            problems := production_problems(self)
            + self.operations_problems()
            + self.feed_problems()
        ):
            raise UnsafeSettings(problems)
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()


def startup_settings() -> Settings:
    """`get_settings()` for a process starting up: settings it cannot run with end it with
    one line per setting to fix (no traceback, no values)."""
    try:
        return get_settings()
    except ValidationError as exc:
        raise SystemExit(startup_message(exc)) from None
