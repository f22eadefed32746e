"""The column type of PHI-bearing text: encrypted at rest with the engine's PHI keyring.

The type needs a keyring but only ever sees the dialect, so each engine's dialect is bound to
a keyring provider when the engine is built (`bind_keyring`, called by `create_engine`). That
keeps keys out of process-global "current" state: two apps with different settings in one
process (tests) each encrypt with their own keys, and an engine nobody bound fails closed.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator

from app.phi.crypto import Keyring, PhiKeyError

KeyringProvider = Callable[[], Keyring]

_PROVIDERS: weakref.WeakKeyDictionary[Dialect, KeyringProvider] = weakref.WeakKeyDictionary()


def bind_keyring(engine: AsyncEngine, provider: KeyringProvider) -> None:
    """Encrypt/decrypt this engine's PHI columns with the provider's keyring (resolved lazily,
    so building an engine, e.g. for migrations, never creates a key)."""
    _PROVIDERS[engine.sync_engine.dialect] = provider


def keyring_of(dialect: Dialect) -> Keyring:
    provider = _PROVIDERS.get(dialect)
    if provider is None:
        raise PhiKeyError("No PHI keyring is configured for this database engine.")
    return provider()


class PhiStr(str):
    """A decrypted PHI value: an ordinary string whose repr() hides it, so debug logs of
    loaded rows (SQLAlchemy at DEBUG), tracebacks with locals and error reporters that
    repr() values show `<PHI n chars>` instead of the text. str(), f-strings and JSON see
    the value (it goes only where a service sends it)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<PHI {len(self)} chars>"


class PhiText(TypeDecorator[str]):
    """Text that holds PHI (participant name/contact, transcript, summary, quote).

    `context` names the column (`"interview.transcript"`); it is the AES-GCM associated data,
    so a value moved to another column does not decrypt. NULL stays NULL (purge erases)."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring_of(dialect).encrypt(value, context=self.context)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return PhiStr(keyring_of(dialect).decrypt(value, context=self.context))

    def process_literal_param(self, value: str | None, dialect: Dialect) -> str:
        # Inlined literals would bypass encryption (and land in logs); never render them.
        raise PhiKeyError("PHI values cannot be rendered as SQL literals.")
