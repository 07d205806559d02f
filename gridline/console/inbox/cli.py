"""``gridline inbox vapid-keys``: a key pair for web push (the private key goes into the settings)."""

from __future__ import annotations

import typer

inbox_app = typer.Typer(help="The staff web inbox.")


@inbox_app.command("vapid-keys")
def vapid_keys() -> None:
    """Print a new VAPID key pair for [inbox] vapid_private_key (keep the private key secret)."""
    from gridline.bots.web.push import new_vapid_keys

    private, public = new_vapid_keys()
    typer.echo(f"GRIDLINE_INBOX__VAPID_PRIVATE_KEY={private}")
    typer.echo(f"# public key (browsers subscribe with it; Gridline derives it from the private key): {public}")


def register(app: typer.Typer) -> None:
    app.add_typer(inbox_app, name="inbox")
