"""French feedback against a labelled set: predictions in the scorer's format, the
scorer's report, and how long the analysis of one message takes.

    .venv/bin/python bench/language_eval.py [GOLD.jsonl] [--out PRED.jsonl] [--json]

Without GOLD, both labelled sets are measured and printed side by side: the dev set
tests/data/fr_errors_dev.jsonl (a copy of ../shared/data/) and the second set
tests/data/fr_errors_second.jsonl (built by tests/data/make_second_set.py, never tuned
to), with recall per category and level, the analysis time and the process's peak
memory. With GOLD, the scorer's full report for that one set. The scorer is
tests/data/score.py (the copy). Offline rules only: no provider is called.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
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


SETS = {"dev": DATA / "fr_errors_dev.jsonl", "second": DATA / "fr_errors_second.jsonl"}


def side_by_side(results: dict[str, dict]) -> str:
    """The headline figures, recall per category and per level, and timings, one column a set."""
    names = list(results)
    rows = [("metric", *names)]

    def row(label, get, fmt="{:.3f}"):
        cells = []
        for name in names:
            try:
                cells.append(fmt.format(get(results[name])))
            except KeyError:
                cells.append("-")
        rows.append((label, *cells))

    row("items", lambda f: f["items"], "{}")
    row("gold errors", lambda f: f["gold_errors"], "{}")
    row("span precision", lambda f: f["precision"])
    row("span recall", lambda f: f["recall"])
    row("span F0.5", lambda f: f["f0.5"])
    row("word F0.5", lambda f: f["token_level"]["f0.5"])
    row("correction accuracy", lambda f: f["correction_accuracy"])
    row("false alarms", lambda f: f"{f['correct_items_flagged']}/{f['items_correct']} "
        f"({f['false_alarm_rate']:.3f})", "{}")
    categories = sorted({c for f in results.values() for c, v in f["per_category"].items() if v["n"]})
    for category in categories:
        row(f"recall {category}", lambda f, c=category: f"{f['per_category'][c]['recall']:.2f} "
            f"({f['per_category'][c]['detected']}/{f['per_category'][c]['n']})", "{}")
    levels = sorted({lv for f in results.values() for lv in f["per_level_recall"]})
    for level in levels:
        row(f"recall {level}", lambda f, lv=level: f"{f['per_level_recall'][lv]['recall']:.2f}", "{}")
    row("analysis p50 ms", lambda f: f["analysis_ms"]["p50"], "{}")
    row("analysis p99 ms", lambda f: f["analysis_ms"]["p99"], "{}")
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports kB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main_both(as_json: bool) -> None:
    results = {}
    for name, path in SETS.items():
        figures, predictions = evaluate(path)
        out = REPO / "bench" / "results" / f"language-{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in predictions), encoding="utf-8")
        results[name] = figures
    if as_json:
        print(json.dumps({**results, "peak_rss_mb": peak_rss_mb()}, indent=2))
    else:
        print(side_by_side(results))
        print(f"peak memory of this process (analyzer loaded): {peak_rss_mb()} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold", nargs="?", type=Path, help="one labelled set (default: both, side by side)")
    parser.add_argument("--out", type=Path, help="where to write the predictions (default bench/results/)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.gold is None:
        main_both(args.json)
        return

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
