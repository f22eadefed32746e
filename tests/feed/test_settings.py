"""Production refuses the change feed's development switches; the schedule parses."""

from __future__ import annotations

import base64
import os

import pytest
from pydantic import ValidationError

from app.config import Settings

PROD = {
    "environment": "production",
    "database_url": "postgresql+asyncpg://rounds@db:5432/rounds",
    "auth_signing_key": "pem",
    "phi_keys": "k1:" + base64.b64encode(os.urandom(32)).decode(),
    "metrics_token": "scrape",
}


@pytest.mark.parametrize("switch", [{"webhook_allow_private": True}, {"feed_outbox": False}])
def test_production_refuses_feed_dev_switches(switch):
    name = next(iter(switch)).upper()
    with pytest.raises(ValidationError, match=name):
        Settings(_env_file=None, **PROD, **switch)
    Settings(_env_file=None, **PROD)  # the defaults are production-safe


def test_default_backoff_is_the_spec_schedule():
    assert Settings(_env_file=None).webhook_backoff == (
        5,
        300,
        1800,
        7200,
        18000,
        36000,
        50400,
        72000,
        86400,
    )
