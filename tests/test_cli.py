"""The CLI explains itself: bare `python -m app` prints help, `--help` lists roles and what
each option does."""

from __future__ import annotations

import pytest

from app import cli
from app.auth.principal import Role


def test_bare_command_prints_help(capsys):
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert "usage: rounds" in out
    for group in ("db", "seed", "tokens", "clients", "keys", "audit"):
        assert group in out


def test_tokens_create_help_lists_roles_and_options(capsys):
    assert cli.ROLES == tuple(r.value for r in Role)
    with pytest.raises(SystemExit) as exc:
        cli.main(["tokens", "create", "--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for role in cli.ROLES:
        assert role in out
    assert "lifetime in seconds (default: 3600)" in out and "display name" in out


def test_an_unknown_role_is_refused_with_the_list(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["tokens", "create", "--sub", "a", "--role", "wizard"])
    assert exc.value.code == 2
    assert "product_manager" in capsys.readouterr().err
