"""Held-out evaluation of a trained model (`make evaluate`).

Parses tests/nlu/{da,sv}.yml (never used in training) and prints, per
language, precision, recall and F1 of every topic; saves a confusion-matrix
image and a JSON summary per language in the output directory, plus the
misunderstood messages so an editor can see what to improve.
Exits with status 1 when a language's macro F1 is below the quality gate.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.heldout import MIN_MACRO_F1, evaluate_model  # noqa: E402


def save_confusion_matrix(gold, predicted, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    labels = sorted(set(gold) | set(predicted))
    figure, axes = plt.subplots(figsize=(14, 12))
    ConfusionMatrixDisplay.from_predictions(
        gold, predicted, labels=labels, ax=axes, xticks_rotation="vertical", colorbar=False, cmap="Blues"
    )
    axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "ddh.tar.gz")
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    parser.add_argument("--min-macro-f1", type=float, default=MIN_MACRO_F1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from sklearn.metrics import classification_report

    args.out.mkdir(parents=True, exist_ok=True)
    results = evaluate_model(args.model)
    passed = True
    for language, result in results.items():
        print(f"\n=== {language}: {len(result['gold'])} held-out messages ===")
        print(classification_report(result["gold"], result["predicted"], digits=3, zero_division=0))
        image = args.out / f"confusion_matrix_{language}.png"
        save_confusion_matrix(result["gold"], result["predicted"], f"Held-out confusion matrix ({language})", image)
        errors = [
            {"text": text, "expected": gold, "predicted": predicted}
            for text, gold, predicted in zip(result["texts"], result["gold"], result["predicted"])
            if gold != predicted
        ]
        summary = {key: result[key] for key in ("accuracy", "macro_f1", "language_accuracy")}
        (args.out / f"heldout_{language}.json").write_text(
            json.dumps({**summary, "errors": errors}, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        ok = result["macro_f1"] >= args.min_macro_f1
        passed &= ok
        print(
            f"{language}: accuracy {result['accuracy']:.3f}, macro F1 {result['macro_f1']:.3f} "
            f"(gate {args.min_macro_f1:.2f}: {'ok' if ok else 'FAILED'}), "
            f"language detection {result['language_accuracy']:.3f}; confusion matrix: {image}"
        )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
