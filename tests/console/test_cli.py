"""``gridline users add|list|unlock`` and ``gridline console purge-text``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from sqlmodel import select
from typer.testing import CliRunner

from gridline.cli import app as cli
from gridline.storage.models import ConsoleUser, Message
from tests.console.factories import CaseFactory

runner = CliRunner()


def env_for(services, **extra: str) -> dict[str, str]:
    return {"GRIDLINE_DATABASE__URL": services.settings.database.url, **extra}


def users(services) -> dict[str, ConsoleUser]:
    with services.db.session() as session:
        return {u.name: u for u in session.exec(select(ConsoleUser)).all()}


async def test_adding_a_supervisor_stores_an_argon2id_hash(services):
    result = runner.invoke(cli, ["users", "add", "wang", "--role", "supervisor", "--grid", "GX01-01",
                                 "--password-stdin"], input="a long enough secret\n", env=env_for(services))
    assert result.exit_code == 0, result.output
    assert "已创建账号 wang" in result.output
    user = users(services)["wang"]
    assert (user.role, user.grid_code) == ("supervisor", "GX01-01")
    assert user.password_hash.startswith("$argon2id$")
    assert "a long enough secret" not in user.password_hash
    assert PasswordHasher().verify(user.password_hash, "a long enough secret")


async def test_the_password_is_prompted_twice_when_not_piped(services):
    result = runner.invoke(cli, ["users", "add", "li", "--role", "auditor"],
                           input="first-password-1\nsecond-password\n", env=env_for(services))
    assert result.exit_code == 2
    assert "li" not in users(services)
    ok = runner.invoke(cli, ["users", "add", "li", "--role", "auditor"],
                       input="same-password-1\nsame-password-1\n", env=env_for(services))
    assert ok.exit_code == 0, ok.output


async def test_wrong_accounts_are_refused(services):
    env = env_for(services)
    cases = [
        (["users", "add", "a", "--role", "supervisor", "--password-stdin"], 2),  # no grid
        (["users", "add", "b", "--role", "leader", "--password-stdin"], 2),  # no staff code
        (["users", "add", "c", "--role", "king", "--password-stdin"], 2),
        (["users", "add", "d", "--role", "supervisor", "--grid", "NOPE", "--password-stdin"], 1),
        (["users", "add", "e", "--role", "leader", "--staff", "NOPE", "--password-stdin"], 1),
        # --lang says "zh-CN | en": an account in French was created and shown in Chinese.
        (["users", "add", "f", "--role", "admin", "--lang", "fr", "--password-stdin"], 2),
    ]
    for args, code in cases:
        result = runner.invoke(cli, args, input="a long enough secret\n", env=env)
        assert result.exit_code == code, (args, result.output)
    short = runner.invoke(cli, ["users", "add", "f", "--role", "admin", "--password-stdin"], input="short\n", env=env)
    assert short.exit_code == 2
    assert users(services) == {}


async def test_a_leader_account_is_tied_to_a_staff_record_and_listed(services):
    env = env_for(services)
    added = runner.invoke(cli, ["users", "add", "cheng", "--role", "leader", "--staff", "LDR-GX01-01-1",
                                "--password-stdin"], input="a long enough secret\n", env=env)
    assert added.exit_code == 0, added.output
    duplicate = runner.invoke(cli, ["users", "add", "cheng", "--role", "admin", "--password-stdin"],
                              input="a long enough secret\n", env=env)
    assert duplicate.exit_code == 1 and "已存在" in duplicate.output
    listed = runner.invoke(cli, ["users", "list"], env=env)
    assert "cheng\tleader\tLDR-GX01-01-1" in listed.output


async def test_unlocking_clears_failures(services):
    env = env_for(services)
    runner.invoke(cli, ["users", "add", "zhao", "--role", "admin", "--password-stdin"],
                  input="a long enough secret\n", env=env)
    with services.db.session() as session:
        user = session.exec(select(ConsoleUser).where(ConsoleUser.name == "zhao")).one()
        user.failed_logins = 12
        user.locked_until = services.clock.now() + timedelta(minutes=30)
        session.add(user)
    result = runner.invoke(cli, ["users", "unlock", "zhao"], env=env)
    assert result.exit_code == 0
    assert (users(services)["zhao"].failed_logins, users(services)["zhao"].locked_until) == (0, None)


async def test_purge_text_command(services):
    factory = CaseFactory(services)
    # The command uses the system clock: a case from 2000 is old whatever today is.
    old = factory.case(created=datetime(2000, 1, 1, tzinfo=UTC), status="closed")
    off = runner.invoke(cli, ["console", "purge-text"], env=env_for(services))
    assert off.exit_code == 0 and "未设置保存期限" in off.output
    env = env_for(services, GRIDLINE_CONSOLE__RETENTION_DAYS="365")
    result = runner.invoke(cli, ["console", "purge-text"], env=env)
    assert result.exit_code == 0, result.output
    assert "已清除 2 条" in result.output
    with services.db.session() as session:
        assert all(m.text is None for m in session.exec(select(Message).where(Message.case_id == old.id)))
