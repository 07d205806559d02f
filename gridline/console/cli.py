"""``gridline users …`` (console accounts) and ``gridline console purge-text`` (retention)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

import typer

from gridline.clock import SystemClock
from gridline.console import security
from gridline.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from gridline.settings import Settings, load_settings
from gridline.storage import console, directory
from gridline.storage.audit import record
from gridline.storage.db import Database
from gridline.storage.models import ConsoleUser

MIN_PASSWORD = 10

users_app = typer.Typer(help="Console accounts.", no_args_is_help=True)
console_app = typer.Typer(help="Supervisor console maintenance.", no_args_is_help=True)


def _lang(settings: Settings) -> str:
    return settings.default_language


def _read_password(password_stdin: bool, lang: str) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True)
        again = typer.prompt("Repeat", hide_input=True)
        if password != again:
            typer.echo(t("console.cli.password_mismatch", lang), err=True)
            raise typer.Exit(2)
    if len(password) < MIN_PASSWORD:
        typer.echo(t("console.cli.password_short", lang), err=True)
        raise typer.Exit(2)
    return password


def create_user(
    db: Database,
    *,
    name: str,
    role: str,
    password: str,
    grid: str | None = None,
    staff: str | None = None,
    lang: str = DEFAULT_LANGUAGE,
    now: datetime | None = None,
) -> ConsoleUser:
    """Create a console account; raises ``ValueError`` with a catalogue key when the input is wrong."""
    when = now or SystemClock().now()
    if role not in security.ROLES:
        raise ValueError("role")
    if role == "supervisor" and not grid:
        raise ValueError("console.cli.grid_required")
    if role == "leader" and not staff:
        raise ValueError("console.cli.staff_required")
    import gridline.storage.models.console  # noqa: F401

    with db.session() as session:
        if console.user_named(session, name):
            raise ValueError("console.cli.exists")
        if grid and not directory.grid(session, grid):
            raise ValueError("console.cli.unknown_grid")
        if staff and not directory.staff_by_code(session, staff):
            raise ValueError("console.cli.unknown_staff")
        user = ConsoleUser(
            name=name,
            password_hash=security.hash_password(password),
            role=role,
            grid_code=grid,
            staff_code=staff,
            lang=lang,
            created_at=when,
        )
        session.add(user)
        session.flush()
        record(session, at=when, actor="cli", action="console.user_created", target_kind="console_user",
               target_id=user.id or "", detail={"name": name, "role": role, "grid": grid, "staff": staff})
        return user


@users_app.command("add")
def add_user(
    name: str = typer.Argument(..., help="Account name"),
    role: str = typer.Option(..., "--role", help="admin | supervisor | leader | auditor"),
    grid: str | None = typer.Option(None, "--grid", help="Grid code (supervisors: the subtree they see)"),
    staff: str | None = typer.Option(None, "--staff", help="Staff code (leaders: whose cases they see)"),
    lang: str = typer.Option(DEFAULT_LANGUAGE.value, "--lang", help="zh-CN | en"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input"),
) -> None:
    """Add a console account. The password is asked for (or read from stdin), never an argument."""
    settings = load_settings()
    ui = _lang(settings)
    if role not in security.ROLES:
        typer.echo(f"--role must be one of {', '.join(security.ROLES)}", err=True)
        raise typer.Exit(2)
    if role == "supervisor" and not grid:
        typer.echo(t("console.cli.grid_required", ui), err=True)
        raise typer.Exit(2)
    if role == "leader" and not staff:
        typer.echo(t("console.cli.staff_required", ui), err=True)
        raise typer.Exit(2)
    if lang not in LANGUAGES:
        typer.echo(f"--lang must be one of {', '.join(LANGUAGES)}", err=True)
        raise typer.Exit(2)
    password = _read_password(password_stdin, ui)
    db = Database(settings.database.url)
    try:
        create_user(db, name=name, role=role, password=password, grid=grid, staff=staff, lang=lang)
    except ValueError as exc:
        key = str(exc)
        typer.echo(t(key, ui, name=name, code=grid or staff or "") if key.startswith("console.") else key, err=True)
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    typer.echo(t("console.cli.created", ui, name=name, role=role))


@users_app.command("list")
def list_users() -> None:
    """List console accounts."""
    settings = load_settings()
    db = Database(settings.database.url)
    try:
        with db.session() as session:
            for user in console.users_by_name(session):
                scope = user.grid_code or user.staff_code or "*"
                locked = " locked" if user.locked_until else ""
                typer.echo(f"{user.name}\t{user.role}\t{scope}{locked}")
    finally:
        db.dispose()


@users_app.command("unlock")
def unlock_user(name: str) -> None:
    """Clear failed sign-ins and the lock of an account."""
    settings = load_settings()
    ui = _lang(settings)
    db = Database(settings.database.url)
    try:
        with db.session() as session:
            user = console.user_named(session, name)
            if user is None:
                typer.echo(t("console.cli.no_user", ui, name=name), err=True)
                raise typer.Exit(1)
            user.failed_logins = 0
            user.locked_until = None
            session.add(user)
            record(session, at=SystemClock().now(), actor="cli", action="console.unlock_user",
                   target_kind="console_user", target_id=user.id or "")
    finally:
        db.dispose()
    typer.echo(t("console.cli.unlocked", ui, name=name))


@console_app.command("purge-text")
def purge_text() -> None:
    """Remove message texts older than console.retention_days (statistics are kept)."""
    from gridline.engine.retention import purge_evidence_before, purge_text_before
    from gridline.storage.blobs import build_blob_store

    settings = load_settings()
    ui = _lang(settings)
    if settings.console.retention_days <= 0:
        typer.echo(t("console.cli.retention_off", ui))
        return
    db = Database(settings.database.url)
    try:
        now = SystemClock().now()
        cutoff = now - timedelta(days=settings.console.retention_days)
        count = purge_text_before(db, cutoff, now=now)
        purge_evidence_before(db, build_blob_store(settings.evidence), cutoff, now=now)
    finally:
        db.dispose()
    typer.echo(t("console.cli.purged", ui, n=count, days=settings.console.retention_days))


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(console_app, name="console")
