"""French feedback against a labelled set: predictions in the scorer's format, the
scorer's report, and how long the analysis of one message takes.

    .venv/bin/python bench/language_eval.py [GOLD.jsonl] [--out PRED.jsonl] [--json]

GOLD defaults to tests/data/fr_errors_dev.jsonl (a copy of ../shared/data/); the scorer
is tests/data/score.py (the same copy). Offline rules only: no provider is called.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
sys.path.insert(0, str(REPO))
os.environ.setdefault("DATABASE_URL", "unused")  # settings are read on import; nothing here connects
os.environ.setdefault("REDIS_URL", "unused")

from domain.language import analyse_message, warm_up  # noqa: E402


def load_scorer():
    spec = importlib.util.spec_from_file_location("score", DATA / "score.py")
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():  # the copied scorer's docstring holds a stray backslash
        warnings.simplefilter("ignore", DeprecationWarning)
        spec.loader.exec_module(module)
    return module


def predict(gold_path: Path) -> tuple[list[dict], list[float]]:
    """One prediction line per item, and the analysis time of each message in ms: the
    whole grammar stage of a turn (rules, corrected text, word-feedback lemmas), minus
    its one vocabulary query."""
    warm_up()
    items = [json.loads(line) for line in gold_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    predictions, timings = [], []
    for item in items:
        started = time.perf_counter()
        result = analyse_message(item["text"], "fr", find_words=lambda lemmas: [])
        timings.append((time.perf_counter() - started) * 1000)
        predictions.append({"id": item["id"], "errors": result["errors"]})
    return predictions, timings


def evaluate(gold_path: Path) -> dict:
    """The scorer's figures and the analysis timings, for `gold_path`."""
    scorer = load_scorer()
    predictions, timings = predict(gold_path)
    figures = scorer.score(scorer.load_jsonl(gold_path), predictions)
    ordered = sorted(timings)
    figures["analysis_ms"] = {"p50": round(statistics.median(timings), 2),
                              "p99": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], 2)}
    return figures, predictions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold", nargs="?", type=Path, default=DATA / "fr_errors_dev.jsonl")
    parser.add_argument("--out", type=Path, help="where to write the predictions (default bench/results/)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    figures, predictions = evaluate(args.gold)
    out = args.out or REPO / "bench" / "results" / f"language-{args.gold.stem}-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in predictions), encoding="utf-8")
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        load_scorer().print_report(figures, args.gold, out)
        print(f"analysis of one message: p50 {figures['analysis_ms']['p50']} ms, "
              f"p99 {figures['analysis_ms']['p99']} ms ({len(predictions)} messages, warm)")


if __name__ == "__main__":
    main()
