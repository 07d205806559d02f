"""How bench/rasa_folds.py scores DIET without Rasa's FallbackClassifier (``diet_top1``), on raw parses."""

from __future__ import annotations

import sys
from pathlib import Path

from gridline.nlu.types import OUT_OF_SCOPE, NluResult

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from rasa_folds import DIET_RANKING_LENGTH, diet_top1

INTENTS = [
    *("water_supply", "power_supply", "drainage", "noise", "elevator", "gas_heating"),
    *("sanitation", "greet", "thanks", "road_facility", "public_order", "safety_hazard"),
]


def _ranking(first: str, second: str) -> list[dict[str, object]]:
    names = [first, second, *[i for i in INTENTS if i not in (first, second)]][:DIET_RANKING_LENGTH]
    return [{"name": n, "confidence": round(0.5 / (rank + 1), 3)} for rank, n in enumerate(names)]


def test_the_fallback_classifiers_verdict_is_taken_out() -> None:
    diet = _ranking("water_supply", "drainage")
    parse = {
        "text": "没水",
        "intent": {"name": OUT_OF_SCOPE, "confidence": 0.3},
        # FallbackClassifier puts its verdict before DIET's own ranking: one entry more than DIET ranks.
        "intent_ranking": [{"name": OUT_OF_SCOPE, "confidence": 0.3}, *diet],
    }
    top = diet_top1(parse, NluResult.from_rasa(parse, engine="rasa"))
    assert (top.intent, top.confidence) == ("water_supply", 0.5)


def test_diets_own_reject_class_answer_stays() -> None:
    # DIET trained with the reject class ranks nlu_fallback first itself; the FallbackClassifier did not fire.
    parse = {
        "text": "今儿个天不赖啊",
        "intent": {"name": OUT_OF_SCOPE, "confidence": 0.8},
        "intent_ranking": _ranking(OUT_OF_SCOPE, "greet"),
    }
    result = NluResult.from_rasa(parse, engine="rasa")
    assert OUT_OF_SCOPE not in [r.name for r in result.ranking]  # Gridline's ranking lists intents only
    top = diet_top1(parse, result)
    assert (top.intent, top.confidence) == (OUT_OF_SCOPE, 0.5)
