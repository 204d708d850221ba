"""``perfscore keys`` and ``perfscore serve --help``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from perfscore.cli import main
from perfscore.service.store import KEY_PREFIX, Store


def test_keys_create_prints_a_key_that_the_store_knows_then_revoke(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'keys.db'}"
    runner = CliRunner()
    created = runner.invoke(main, ["keys", "create", "bureau-x", "--db", db])
    assert created.exit_code == 0, created.output
    key = created.output.strip()
    assert key.startswith(KEY_PREFIX)
    assert len(key) > 40
    store = Store(db)
    assert store.tenant_for_key(key) == "bureau-x"
    second = runner.invoke(main, ["keys", "create", "bureau-x", "--db", db]).output.strip()
    assert second != key
    assert store.tenant_for_key(second) == "bureau-x"
    revoked = runner.invoke(main, ["keys", "revoke", key, "--db", db], env={"PERFSCORE_LANG": "en"})
    assert revoked.exit_code == 0
    assert revoked.output.strip() == "revoked"
    assert store.tenant_for_key(key) is None
    assert store.tenant_for_key(second) == "bureau-x"
    again = runner.invoke(main, ["keys", "revoke", key, "--db", db], env={"PERFSCORE_LANG": "en"})
    assert again.exit_code == 3  # the key names nothing valid
    assert "no such live key" in again.output
    store.close()


def test_serve_help_names_every_option() -> None:
    out = CliRunner().invoke(main, ["serve", "--help"]).output
    for option in ("--db", "--host", "--port", "--workers", "--no-shipped"):
        assert option in out
