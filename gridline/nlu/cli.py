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
        method: str | None = typer.Option(None, help="embedded method (gridline.nlu.methods.METHODS)"),
        extra: list[Path] = typer.Option(
            [], "--extra", exists=True, help="more labelled documents (.yml/.jsonl/.csv file or folder); repeatable"
        ),
    ) -> None:
        """Train a model on the training data and save it (embedded: seconds; Rasa: minutes).

        The embedded model also learns from every document in the `extra/` folder beside the
        training file (exported corrections land there) and from each --extra.
        """
        settings = _settings(engine)
        if data is not None:
            settings.nlu.training_data = str(data)
        started = time.perf_counter()
        if engine == "rasa":
            from gridline.nlu.rasa_client import train_rasa  # Rasa's side is only loaded when asked for

            path = Path(train_rasa(settings))
            version = path.name
        else:
            from gridline.nlu.embedded import EmbeddedEngine, load_training, training_files
            from gridline.nlu.engines import resolve_path
            from gridline.nlu.methods import DEFAULT_METHOD

            files = [*training_files(resolve_path(settings.nlu.training_data)), *extra]
            model = EmbeddedEngine.fit(load_training(files), method or DEFAULT_METHOD)
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
        compare: str | None = typer.Option(
            None, help="comma-separated embedded methods (or 'all') to run on the same folds / file, side by side"
        ),
        extra: list[Path] = typer.Option(
            [], "--extra", exists=True, help="labelled documents added to the training side only; repeatable"
        ),
        speech: float | None = typer.Option(
            None, min=0.0, max=1.0, help="test on speech-like variants of DATA: share of words heard as homophones"
        ),
        seed: int = typer.Option(0, help="seed of the cross-validation folds (and of --speech variants)"),
        grouped: bool = typer.Option(
            False, "--grouped", help="keep near-paraphrases in one fold (no reworded copy of a test sentence trains)"
        ),
        rasa_folds: bool = typer.Option(
            False, "--rasa-folds",
            help="with --cross-validation --compare: retrain the Rasa server at [nlu] rasa_url on each fold "
            "(a server on this machine that nobody else uses; its own model is loaded again at the end)",
        ),
        rasa_model: Path | None = typer.Option(
            None, exists=True, dir_okay=False, help="--rasa-folds: the model file the server was started with"
        ),
        rasa_config: Path | None = typer.Option(
            None, exists=True, dir_okay=False, help="--rasa-folds: the Rasa pipeline to train (default rasa/config.yml)"
        ),
    ) -> None:
        """Evaluate an engine on DATA, or cross-validate the embedded engine on DATA's own folds.

        Leads with macro-F1 over the gold labels (docs/nlu.md, "An honest report").
        """
        from gridline.nlu.training_data import TrainingData, load_documents, load_nlu_yaml

        settings = _settings(engine)
        test_data = load_nlu_yaml(data)
        if not test_data.examples:
            raise typer.BadParameter(f"{data} has no intent examples", param_hint="--data")
        if speech:
            from gridline.nlu.speech import speech_variants

            test_data = TrainingData(examples=speech_variants(test_data.examples, rate=speech, seed=seed))
        extra_data = TrainingData()
        for path in extra:
            extra_data = extra_data.merge(load_documents(path))
        if rasa_folds and not (compare and cross_validation):
            raise typer.BadParameter("needs --cross-validation and --compare", param_hint="--rasa-folds")
        if compare:
            folds_of_rasa = RasaFoldsOptions(rasa_model, rasa_config) if rasa_folds else None
            _compare(settings, test_data, compare, cross_validation, extra_data, seed, grouped, folds_of_rasa)
            return
        if cross_validation and settings.nlu.engine == "rasa":
            _say(settings, "rasa_cv_unsupported")
            raise typer.Exit(2)
        evaluation = asyncio.run(_evaluation(settings, test_data, cross_validation, method, extra_data, seed, grouped))
        summary: dict[str, Any] = {
            "data": str(data),
            "engine": settings.nlu.engine,
            "cross_validation": cross_validation,
            "grouped_folds": grouped if cross_validation else None,
            "speech_variant_rate": speech,
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
        out: Path | None = typer.Option(
            None, help="file to write (default: extra/corrections-<time>.yml beside the training data)"
        ),
    ) -> None:
        """Write supervisors' corrections not exported yet as Rasa YAML, and mark them exported.

        By default they land in the training data's `extra/` folder, so `gridline nlu train` (and a
        service's next start) learns from them; delete lines there that should not be learnt.
        """
        from gridline.clock import SystemClock
        from gridline.nlu.corrections import export_corrections
        from gridline.storage.db import Database

        settings = load_settings()
        clock = SystemClock()
        from gridline.nlu.embedded import EXTRA_DIRECTORY
        from gridline.nlu.engines import resolve_path

        folder = resolve_path(settings.nlu.training_data).parent / EXTRA_DIRECTORY
        target = out or folder / f"corrections-{clock.now().astimezone(UTC):%Y%m%d-%H%M%S}.yml"
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


async def _evaluation(
    settings: Settings, test_data: Any, k: int | None, method: str | None, extra: Any, seed: int, grouped: bool
) -> Any:
    from gridline.nlu import evaluate as ev
    from gridline.nlu.engines import build_engine

    if k:
        from gridline.nlu.compare import cross_validated
        from gridline.nlu.methods import DEFAULT_METHOD

        evaluation, _ = await cross_validated(
            test_data, k, method or DEFAULT_METHOD, seed=seed, extra=extra, grouped=grouped
        )
        return evaluation
    if extra.examples and settings.nlu.engine == "embedded":
        from gridline.nlu.embedded import EmbeddedEngine, load_training, training_files
        from gridline.nlu.engines import resolve_path
        from gridline.nlu.methods import DEFAULT_METHOD

        train = load_training(training_files(resolve_path(settings.nlu.training_data))).merge(extra)
        return await ev.evaluate(test_data, EmbeddedEngine.fit(train, method or DEFAULT_METHOD).parse_sync)
    nlu = build_engine(settings)
    try:
        return await ev.evaluate(test_data, nlu.parse)
    finally:
        await _close(nlu)


@dataclass(frozen=True)
class RasaFoldsOptions:
    """``--rasa-folds`` and its two options."""

    own_model: Path | None
    config: Path | None


def _compare(
    settings: Settings, test_data: Any, names: str, k: int | None, extra: Any, seed: int, grouped: bool = False,
    rasa_folds: RasaFoldsOptions | None = None,
) -> None:
    """``evaluate --compare``: the table on stderr (for people), the rows as JSON on stdout."""
    from gridline.nlu import compare as cmp
    from gridline.nlu.methods import METHODS

    methods = list(METHODS) if names == "all" else [m.strip() for m in names.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise typer.BadParameter(f"methods must be among {', '.join(METHODS)}", param_hint="--compare")
    threshold = settings.nlu.confidence_threshold

    async def run() -> tuple[list[cmp.MethodScore], bool]:
        if k and rasa_folds is not None:
            return await _compare_folds_with_rasa(settings, test_data, k, methods, extra, seed, grouped, rasa_folds)
        if k:
            rows = await cmp.compare_folds(
                test_data, k, methods, threshold=threshold, seed=seed, extra=extra, grouped=grouped
            )
            return rows, False
        from gridline.nlu.embedded import load_training, training_files
        from gridline.nlu.engines import resolve_path

        train = load_training(training_files(resolve_path(settings.nlu.training_data))).merge(extra)
        timeout = max(settings.nlu.rasa_timeout_seconds, 30.0)  # measuring Rasa, not guarding residents
        rasa = await cmp.rasa_server(settings.nlu.rasa_url, settings.nlu.rasa_token, timeout)
        if rasa is None:
            return await cmp.compare_heldout(train, test_data, methods, threshold=threshold), False
        parse, close = rasa
        try:
            return await cmp.compare_heldout(train, test_data, methods, threshold=threshold, rasa=parse), True
        finally:
            await close()

    rows, with_rasa = asyncio.run(run())
    lang = settings.default_language
    headers = [t(f"nlu.compare.{c}", lang) for c in cmp.COLUMNS]
    _say(settings, "compared", examples=len(test_data.examples), folds=k or "—", threshold=threshold)
    typer.echo(cmp.table(rows, headers), err=True)
    if (not k or rasa_folds is not None) and not with_rasa:
        _say(settings, "rasa_not_compared", url=settings.nlu.rasa_url)
    if k and with_rasa:
        _say(settings, "rasa_trained_per_fold", folds=k, url=settings.nlu.rasa_url)
    _print_json(
        {
            "examples": len(test_data.examples),
            "cross_validation": k,
            "seed": seed,
            "grouped_folds": grouped if k else None,
            "threshold": threshold,
            "rasa": with_rasa,
            "methods": [r.as_dict() for r in rows],
        }
    )


async def _compare_folds_with_rasa(
    settings: Settings, test_data: Any, k: int, methods: list[str], extra: Any, seed: int, grouped: bool,
    options: RasaFoldsOptions,
) -> tuple[list[Any], bool]:
    """The folds with Rasa retrained on each; without it (and said so) when no server answers."""
    import httpx

    from gridline.nlu import compare as cmp
    from gridline.nlu.rasa_folds import RASA_CONFIG, RasaFolds, RasaFoldsError

    threshold = settings.nlu.confidence_threshold
    timeout = max(settings.nlu.rasa_timeout_seconds, 30.0)  # measuring Rasa, not guarding residents
    rasa = RasaFolds(settings.nlu.rasa_url, settings.nlu.rasa_token, config=options.config or RASA_CONFIG,
                     own_model=options.own_model, timeout=timeout)
    try:
        async with rasa:
            rows = await cmp.compare_folds(
                test_data, k, methods, threshold=threshold, seed=seed, extra=extra, grouped=grouped, rasa=rasa
            )
            return rows, True
    except (RasaFoldsError, httpx.HTTPError) as exc:
        if isinstance(exc, httpx.TransportError) and not rasa.folds_trained:  # no server: compare without it
            rows = await cmp.compare_folds(test_data, k, methods, threshold=threshold, seed=seed, extra=extra,
                                           grouped=grouped)
            return rows, False
        _say(settings, "rasa_folds_failed", reason=str(exc) or type(exc).__name__)
        raise typer.Exit(2) from exc


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
