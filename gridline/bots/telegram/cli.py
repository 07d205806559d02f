"""``gridline staff link-code STAFF_CODE``: a one-time code to link a staff member's Telegram account."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import typer

from gridline.bots.telegram.linking import UnknownStaff, issue_link_code
from gridline.clock import SystemClock
from gridline.settings import load_settings
from gridline.storage.db import Database


def link_code(staff_code: str = typer.Argument(..., help="The staff member's code, e.g. GX-L-001")) -> None:
    """Print a one-time code (valid 24 hours) the staff member sends to the bot as /start CODE."""
    settings = load_settings()
    db = Database(settings.database.url)
    try:
        with db.session() as session:
            issued = issue_link_code(
                session, staff_code, now=SystemClock().now(), secret_key=settings.server.secret_key
            )
    except UnknownStaff:
        typer.echo(f"No staff member with code {staff_code!r}.", err=True)
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    expires = issued.expires_at.astimezone(ZoneInfo(settings.timezone))
    typer.echo(f"Link code for {issued.staff_name} ({issued.staff_code}): {issued.code}")
    typer.echo(f"Send to the bot:  /start {issued.code}")
    typer.echo(f"Valid once, until {expires:%Y-%m-%d %H:%M} ({settings.timezone}).")


def register(app: typer.Typer) -> None:
    """Add ``link-code`` to the ``staff`` command group (created here unless another area made it)."""
    for group in app.registered_groups:
        if group.name == "staff" and group.typer_instance is not None:
            group.typer_instance.command("link-code")(link_code)
            return
    staff_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
    staff_app.command("link-code")(link_code)
    app.add_typer(staff_app, name="staff")
