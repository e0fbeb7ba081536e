"""Held-out accuracy of the project's NLU pipeline against two baselines.

Trains each candidate on data/ and scores it on tests/nlu/{da,sv}.yml, which
are never used for training:

- ``project``: config.yml (the pipeline the product ships),
- ``rasa-default``: Rasa 3.6's untuned default config on the same data,
- ``tfidf-logreg``: TF-IDF word n-grams + logistic regression (scikit-learn).

Usage: python bench/nlu_accuracy.py [--only project] [--json out.json]
       python bench/nlu_accuracy.py --only tfidf-logreg --model rasa-default=bench/models/rasa_default.tar.gz
(--model scores an already trained model instead of training one.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.heldout import ROOT, heldout, training_examples, understood_topic  # noqa: E402

Predictor = Callable[[List[str]], List[Tuple[str, str]]]  # -> (topic, language)


def train_rasa_nlu(config: Path, output: Path) -> Tuple[Predictor, float]:
    from rasa.model_training import train_nlu

    started = time.perf_counter()
    model = train_nlu(
        config=str(config),
        nlu_data=str(ROOT / "data"),
        output=str(output),
        domain=str(ROOT / "domain.yml"),
        fixed_model_name=config.stem,
    )
    seconds = time.perf_counter() - started
    return rasa_predictor(Path(model)), seconds


def rasa_predictor(model: Path) -> Predictor:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    def predict(texts: List[str]) -> List[Tuple[str, str]]:
        async def run() -> List[Tuple[str, str]]:
            results = []
            for text in texts:
                parsed = await agent.parse_message(text)
                results.append((understood_topic(parsed), parsed.get("language", "")))
            return results

        return asyncio.run(run())

    return predict


def train_tfidf() -> Tuple[Predictor, float]:
    rows = training_examples()
    started = time.perf_counter()
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), lowercase=True, sublinear_tf=True),
        LogisticRegression(max_iter=2000),
    )
    model.fit([text for text, _, _ in rows], [intent for _, intent, _ in rows])
    seconds = time.perf_counter() - started
    return (lambda texts: [(t, "") for t in model.predict(texts)]), seconds


def score(predict: Predictor) -> Dict[str, Dict[str, float]]:
    results = {}
    for language, pairs in heldout().items():
        texts = [text for text, _ in pairs]
        gold = [topic for _, topic in pairs]
        started = time.perf_counter()
        predicted = predict(texts)
        per_message_ms = (time.perf_counter() - started) / len(texts) * 1000
        topics = [topic for topic, _ in predicted]
        languages = [lang for _, lang in predicted]
        results[language] = {
            "n": len(texts),
            "accuracy": accuracy_score(gold, topics),
            "macro_f1": f1_score(gold, topics, average="macro", labels=sorted(set(gold))),
            "language_accuracy": float(np.mean([lang == language for lang in languages]))
            if any(languages)
            else float("nan"),
            "parse_ms": per_message_ms,
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="candidate(s) to run")
    parser.add_argument("--config", action="append", default=[], help="extra Rasa config(s)")
    parser.add_argument("--model", action="append", default=[], help="NAME=PATH of a trained model to score")
    parser.add_argument("--json", type=Path, help="write results as JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    candidates: Dict[str, Callable[[Path], Tuple[Predictor, float]]] = {
        "project": lambda out: train_rasa_nlu(ROOT / "config.yml", out),
        "rasa-default": lambda out: train_rasa_nlu(ROOT / "bench/configs/rasa_default.yml", out),
        "tfidf-logreg": lambda out: train_tfidf(),
    }
    for extra in args.config:
        candidates[Path(extra).stem] = lambda out, p=Path(extra): train_rasa_nlu(p, out)
    chosen = args.only or list(candidates)
    for item in args.model:
        name, _, path = item.partition("=")
        candidates[name] = lambda out, p=Path(path): (rasa_predictor(p), float("nan"))
        chosen.append(name)

    report = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name in chosen:
            predict, train_seconds = candidates[name](Path(scratch))
            report[name] = {"train_seconds": train_seconds, **score(predict)}

    print(f"{'candidate':<16}{'lang':<6}{'n':>5}{'accuracy':>10}{'macroF1':>9}"
          f"{'lang-acc':>10}{'parse ms':>10}{'train s':>9}")
    for name, result in report.items():
        for language in ("da", "sv"):
            r = result[language]
            print(f"{name:<16}{language:<6}{r['n']:>5}{r['accuracy']:>10.3f}{r['macro_f1']:>9.3f}"
                  f"{r['language_accuracy']:>10.3f}{r['parse_ms']:>10.1f}{result['train_seconds']:>9.1f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
