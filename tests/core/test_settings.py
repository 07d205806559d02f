"""Settings come from the TOML file and are overridden by GRIDLINE_<SECTION>__<KEY> variables."""

from __future__ import annotations

import pytest

from gridline.routing.policy import PolicyError, policy_for
from gridline.settings import load_settings


def test_toml_file_then_environment(tmp_path, monkeypatch):
    config = tmp_path / "g.toml"
    config.write_text(
        'timezone = "Europe/Berlin"\n[database]\nurl = "sqlite:///x.db"\n'
        '[telegram.bots.res]\ntoken = "T"\nframework = "aiogram"\n'
        '[cases.escalation.normal]\nrepeat = 0\nsteps = [{ notify = ["on_duty_leader"], wait_minutes = 1 }]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("GRIDLINE_CONFIG", str(config))
    monkeypatch.setenv("GRIDLINE_DATABASE__URL", "postgresql+psycopg://db/gridline")
    settings = load_settings()
    assert settings.timezone == "Europe/Berlin"
    assert settings.database.url == "postgresql+psycopg://db/gridline"  # the environment wins
    assert settings.telegram.bots["res"].framework == "aiogram"
    assert policy_for(settings, "normal").steps[0].wait_minutes == 1
    assert policy_for(settings, "urgent").priority == "urgent"  # unlisted priorities fall back to normal's steps


def test_missing_config_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDLINE_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(FileNotFoundError, match=r"nope\.toml"):
        load_settings()


def test_unknown_escalation_target_is_refused(tmp_path, monkeypatch):
    config = tmp_path / "g.toml"
    config.write_text('[cases.escalation.normal]\nsteps = [{ notify = ["the_mayor"], wait_minutes = 1 }]\n')
    monkeypatch.setenv("GRIDLINE_CONFIG", str(config))
    with pytest.raises(PolicyError, match="the_mayor"):
        policy_for(load_settings(), "normal")


@pytest.mark.parametrize(("milliseconds", "expected"), [(1.0, 0.001), (0.5, 0.0005), (0, None)])
def test_serve_sets_the_gil_switch_interval(milliseconds: float, expected: float | None):
    import sys

    from gridline.commands.serve import apply_switch_interval
    from gridline.settings import Settings

    before = sys.getswitchinterval()
    try:
        apply_switch_interval(Settings(server={"switch_interval_ms": milliseconds}))
        assert sys.getswitchinterval() == pytest.approx(expected if expected is not None else before)
    finally:
        sys.setswitchinterval(before)


@pytest.mark.parametrize("freeze", [True, False])
def test_a_started_process_takes_what_it_holds_out_of_the_collectors_sight(freeze: bool):
    import gc

    from gridline.commands.serve import settle_heap
    from gridline.settings import Settings

    held = [{"model": i} for i in range(1000)]  # what start-up loaded: the NLU model, the indexes
    before = gc.get_freeze_count()
    try:
        settle_heap(Settings(server={"freeze_heap": freeze}))
        if freeze:
            assert gc.get_freeze_count() > before + len(held), "start-up's objects are frozen"
            assert not any(obj is held[0] for obj in gc.get_objects()), "a full collection no longer walks them"
            made_later = [{"case": 1}]
            assert any(obj is made_later for obj in gc.get_objects()), "what comes later is collected as ever"
        else:
            assert gc.get_freeze_count() == before
    finally:
        gc.unfreeze()
