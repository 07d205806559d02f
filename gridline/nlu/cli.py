"""``gridline nlu train|parse|evaluate|export-corrections|lookups``.

Machine-readable results (parse results, evaluation summaries) are printed as JSON on stdout;
messages for the operator go through the catalogue (``gridline/i18n/nlu.toml``) to stderr.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import typer

from gridline.i18n import t
from gridline.settings import NluSettings, Settings, load_settings

ENGINES = ("embedded", "rasa")


def _settings(engine: str | None) -> Settings:
    settings = load_settings()
    if engine is None:
        return settings
    if engine not in ENGINES:
        raise typer.BadParameter(f"engine must be one of {', '.join(ENGINES)}", param_hint="--engine")
    nlu = NluSettings(**{**settings.nlu.model_dump(), "engine": engine})
    return settings.model_copy(update={"nlu": nlu})


def _say(settings: Settings, key: str, **params: Any) -> None:
    typer.echo(t(f"nlu.cli.{key}", settings.default_language, **params), err=True)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


async def _close(engine: Any) -> None:
    closer = getattr(engine, "aclose", None)
    if closer is not None:
        await closer()


@dataclass
class _CliServices:
    """The part of Services that corrections need, without training an NLU model first."""

    db: Any
    clock: Any


def register(app: typer.Typer) -> None:
    nlu_app = typer.Typer(help="NLU: train, parse, evaluate, corrections, lookup tables.", no_args_is_help=True)

    @nlu_app.command()
    def train(
        engine: str = typer.Option("embedded", help="embedded | rasa"),
        data: Path | None = typer.Option(None, help="Rasa NLU file (default: settings nlu.training_data)"),
        method: str | None = typer.Option(None, help="embedded method: char_lr | char_svm | char_word_svm"),
    ) -> None:
        """Train a model on the training data and save it (embedded: seconds; Rasa: minutes)."""
        settings = _settings(engine)
        if data is not None:
            settings.nlu.training_data = str(data)
        started = time.perf_counter()
        if engine == "rasa":
            from gridline.nlu.rasa_client import train_rasa  # Rasa's side is only loaded when asked for

            path = Path(train_rasa(settings))
            version = path.name
        else:
            from gridline.nlu.embedded import EmbeddedEngine, training_files
            from gridline.nlu.engines import resolve_path
            from gridline.nlu.methods import DEFAULT_METHOD
            from gridline.nlu.training_data import load_nlu_yaml

            model = EmbeddedEngine.fit(
                load_nlu_yaml(training_files(resolve_path(settings.nlu.training_data))),
                method or DEFAULT_METHOD,
            )
            path = model.save(settings.nlu.model_dir)
            version = model.version
        seconds = round(time.perf_counter() - started, 2)
        _say(settings, "trained", engine=engine, path=str(path), seconds=seconds)
        _print_json({"engine": engine, "model": str(path), "version": version, "seconds": seconds})

    @nlu_app.command()
    def parse(
        text: str = typer.Argument(..., help="What a resident wrote"),
        engine: str | None = typer.Option(None, help="embedded | rasa (default: settings nlu.engine)"),
    ) -> None:
        """Classify TEXT; prints JSON in the shape of Rasa's /model/parse."""
        from gridline.nlu.engines import build_engine
        from gridline.nlu.priority import assess_priority

        settings = _settings(engine)

        async def run() -> dict[str, Any]:
            nlu = build_engine(settings)
            try:
                result = await nlu.parse(text)
            finally:
                await _close(nlu)
            out = result.to_rasa()
            decision = assess_priority(result)
            out["priority"] = {"priority": decision.priority, "reasons": decision.reasons}
            return out

        _print_json(asyncio.run(run()))

    @nlu_app.command()
    def evaluate(
        data: Path = typer.Option(..., exists=True, dir_okay=False, help="Rasa NLU file to test on"),
        engine: str | None = typer.Option(None, help="embedded | rasa (default: settings nlu.engine)"),
        cross_validation: int | None = typer.Option(
            None, "--cross-validation", min=2, help="K: train on K-1 folds of DATA itself, test on the rest"
        ),
        report: Path | None = typer.Option(None, help="write intent_report.json here (+ -entities, -errors)"),
        method: str | None = typer.Option(None, help="embedded method for cross-validation"),
    ) -> None:
        """Evaluate an engine on DATA, or cross-validate the embedded engine on DATA's own folds."""
        from gridline.nlu import evaluate as ev
        from gridline.nlu.engines import build_engine
        from gridline.nlu.training_data import load_nlu_yaml

        settings = _settings(engine)
        test_data = load_nlu_yaml(data)
        if not test_data.examples:
            raise typer.BadParameter(f"{data} has no intent examples", param_hint="--data")

        async def run() -> ev.Evaluation:
            if cross_validation:
                if settings.nlu.engine == "rasa":
                    _say(settings, "rasa_cv_unsupported")
                    raise typer.Exit(2)
                return await ev.cross_validate(test_data, cross_validation, ev.embedded_trainer(method))
            nlu = build_engine(settings)
            try:
                return await ev.evaluate(test_data, nlu.parse)
            finally:
                await _close(nlu)

        evaluation = asyncio.run(run())
        summary: dict[str, Any] = {
            "data": str(data),
            "engine": settings.nlu.engine,
            "cross_validation": cross_validation,
            **evaluation.summary(),
            "answered_by": dict(Counter(p.result.engine for p in evaluation.predictions)),
            "coverage": evaluation.coverage_report(),
            "per_intent": evaluation.gold_report()["per_label"],
            "confidence": evaluation.confidence_report(),
        }
        if report is not None:
            written = _write_reports(evaluation, report)
            summary["reports"] = [str(p) for p in written]
            _say(settings, "report_written", path=str(report))
        _print_json(summary)

    @nlu_app.command("export-corrections")
    def export_corrections_command(
        out: Path | None = typer.Option(None, help="file to write (default: var/nlu/corrections-<time>.yml)"),
    ) -> None:
        """Write supervisors' corrections not exported yet as Rasa YAML, and mark them exported."""
        from gridline.clock import SystemClock
        from gridline.nlu.corrections import export_corrections
        from gridline.storage.db import Database

        settings = load_settings()
        clock = SystemClock()
        target = out or Path("var/nlu") / f"corrections-{clock.now().astimezone(UTC):%Y%m%d-%H%M%S}.yml"
        db = Database(settings.database.url)
        try:
            count = export_corrections(_CliServices(db=db, clock=clock), target)
        finally:
            db.dispose()
        if count:
            _say(settings, "exported", count=count, path=str(target))
        else:
            _say(settings, "no_corrections")
        _print_json({"exported": count, "path": str(target) if count else None})

    @nlu_app.command()
    def lookups(
        addresses: Path = typer.Option(Path("config/demo/addresses.csv"), exists=True, dir_okay=False),
        out: Path = typer.Option(Path("config/nlu/lookups.yml")),
    ) -> None:
        """Regenerate the lookup tables and synonyms from the address directory CSV."""
        from gridline.nlu.lookups import lookups_from_csv, write_lookups

        settings = load_settings()
        write_lookups(addresses, out)
        data = lookups_from_csv(addresses)
        counts = {name: len(values) for name, values in data.lookups.items()}
        _say(settings, "lookups_written", path=str(out), **counts)
        _print_json({"path": str(out), "lookups": counts, "synonyms": len(data.synonyms)})

    app.add_typer(nlu_app, name="nlu")


def _write_reports(evaluation: Any, report: Path) -> list[Path]:
    """``report`` gets the intent report; ``<stem>-entities.json`` and ``<stem>-errors.json`` beside it."""
    report.parent.mkdir(parents=True, exist_ok=True)
    files = {
        report: evaluation.intent_report(),
        report.with_name(f"{report.stem}-entities.json"): evaluation.entity_report(),
        report.with_name(f"{report.stem}-errors.json"): evaluation.errors(),
    }
    for path, content in files.items():
        path.write_text(json.dumps(content, ensure_ascii=False, indent=2), encoding="utf-8")
    return list(files)


__all__ = ["register"]
