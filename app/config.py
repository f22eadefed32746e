"""Settings: read once from the environment, injected everywhere else."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    graphql_fastpath: bool = True  # compiled executor for queries (app/graphql/fastpath.py)

    # Integrations
    jira_webhook_secret: str | None = Field(default=None, repr=False)
    slack_signing_secret: str | None = Field(default=None, repr=False)

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
    idempotency_ttl_seconds: int = 24 * 3600
    idempotency_lease_seconds: float = 60.0  # an in-flight key older than this was abandoned

    @property
    def webhook_backoff(self) -> tuple[float, ...]:
        return tuple(float(x) for x in self.webhook_retry_schedule.split(",") if x.strip())

    @model_validator(mode="after")
    def _webhooks_in_production(self) -> Settings:
        if self.is_production and self.webhook_allow_private:
            raise ValueError("production refuses WEBHOOK_ALLOW_PRIVATE=true")
        if self.is_production and not self.feed_outbox:
            raise ValueError("production refuses FEED_OUTBOX=false (webhooks would miss changes)")
        return self

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

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Settings:
        if self.is_production:
            missing = []
            # Rounds signs service-account tokens itself: every pod must share one key.
            if not self.auth_signing_key:
                missing.append("AUTH_SIGNING_KEY")
            if not self.phi_keys:
                missing.append("PHI_KEYS")
            if self.database_url == DEFAULT_SQLITE_URL:
                missing.append("DATABASE_URL")
            if missing:
                raise ValueError(
                    "production refuses development defaults; set " + ", ".join(missing)
                )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
