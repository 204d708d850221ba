"""``perfscore serve`` and ``perfscore keys``: the HTTP service and its API keys.

Both need the ``serve`` extra (``pip install 'perfscore[serve]'``); the service package is
imported only when one of these commands runs.
"""

from __future__ import annotations

import os
import sys

import click

from perfscore.i18n import tr

from .common import Command, ExitCode, Group, IntRangeType, Option

__all__ = ["keys_command", "serve_command"]

_DEFAULT_DB = "sqlite:///perfscore.db"


def _need_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import sqlalchemy  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as error:
        click.echo(tr("cli.serve.needs_extra", name=str(error.name)), err=True)
        sys.exit(ExitCode.USAGE)


@click.command("serve", cls=Command, found=None, help_key="cli.serve.help")
@click.option("--db", cls=Option, default=_DEFAULT_DB, show_default=True, help_key="cli.serve.db")
@click.option(
    "--host", cls=Option, default="127.0.0.1", show_default=True, help_key="cli.serve.host"
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    cls=Option,
    type=IntRangeType(0, 65535),
    metavar="PORT",
    help_key="cli.serve.port",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    cls=Option,
    type=IntRangeType(1, 64),
    metavar="N",
    help_key="cli.serve.workers",
)
@click.option("--no-shipped", cls=Option, is_flag=True, help_key="cli.serve.no_shipped")
def serve_command(db: str, host: str, port: int, workers: int, no_shipped: bool) -> None:
    _need_extra()
    import uvicorn

    from perfscore.service.settings import ENV, ServiceSettings
    from perfscore.service.store import Store

    settings = ServiceSettings(db_url=db, allow_shipped=not no_shipped)
    Store(db).close()  # migrate once, before the workers start
    os.environ[ENV] = settings.to_env()
    uvicorn.run(
        "perfscore.service.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


@click.group("keys", cls=Group, found=None, help_key="cli.keys.help")
def keys_command() -> None:
    pass


@keys_command.command("create", cls=Command, found=None, help_key="cli.keys.create.help")
@click.argument("tenant")
@click.option("--db", cls=Option, default=_DEFAULT_DB, show_default=True, help_key="cli.serve.db")
def create(tenant: str, db: str) -> None:
    _need_extra()
    from perfscore.service.store import Store

    store = Store(db)
    try:
        click.echo(store.create_key(tenant))
    finally:
        store.close()


@keys_command.command("revoke", cls=Command, found=None, help_key="cli.keys.revoke.help")
@click.argument("key")
@click.option("--db", cls=Option, default=_DEFAULT_DB, show_default=True, help_key="cli.serve.db")
def revoke(key: str, db: str) -> None:
    _need_extra()
    from perfscore.service.store import Store

    store = Store(db)
    try:
        done = store.revoke_key(key)
    finally:
        store.close()
    if not done:
        click.echo(f"perfscore keys revoke: {tr('cli.keys.unknown')}", err=True)
        sys.exit(ExitCode.INVALID)
    click.echo(tr("cli.keys.revoked"))
