"""Parse texts with a trained Rasa model, in-process — run by the *Rasa* venv's Python, not Gridline's.

    ~/.cache/gridline/rasa-venv/bin/python bench/rasa_predict.py MODEL.tar.gz TEXTS.json PARSES.json

TEXTS.json is a JSON list of strings; PARSES.json (written, not printed: Rasa logs to stdout) is
``{"parses": [...], "seconds": [...]}``: each parse exactly what ``POST /model/parse`` answers, and
the seconds each one took.
Used by ``bench/rasa_folds.py`` (one model per cross-validation fold: loading a model in-process
costs seconds, starting a server for each fold would cost a minute).
"""

import asyncio
import json
import sys
import time


async def main(model: str, texts_file: str, out_file: str) -> None:
    from rasa.core.agent import Agent  # the Rasa venv only

    with open(texts_file, encoding="utf-8") as f:
        texts = json.load(f)
    agent = Agent.load(model)
    await agent.parse_message("你好")  # TensorFlow builds its graph on the first call
    parses, seconds = [], []
    for text in texts:
        started = time.perf_counter()
        parses.append(await agent.parse_message(text))
        seconds.append(time.perf_counter() - started)
    with open(out_file, "w", encoding="utf-8") as f:
        json.dump({"parses": parses, "seconds": seconds}, f, ensure_ascii=False, default=float)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
