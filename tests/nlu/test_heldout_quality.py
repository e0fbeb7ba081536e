"""The quality gate: the trained model understands held-out citizen messages
(tests/nlu/*.yml, never used in training) at least as well as measured."""

from __future__ import annotations

import pytest

from bench.heldout import MIN_MACRO_F1, evaluate_model
from tests.conftest import MODEL

# One xdist worker runs the module (`--dist loadgroup`): the evaluation loads the
# model and parses every held-out message, once, not on each worker.
pytestmark = pytest.mark.xdist_group("heldout")


@pytest.fixture(scope="module")
def results():
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first", pytrace=False)
    return evaluate_model(MODEL)


@pytest.mark.parametrize("language", ["da", "sv"])
def test_heldout_macro_f1_meets_the_gate(results, language):
    assert results[language]["macro_f1"] >= MIN_MACRO_F1, (
        f"{language} held-out macro F1 {results[language]['macro_f1']:.3f} < {MIN_MACRO_F1}; "
        "run `make evaluate` to see which topics suffer"
    )


@pytest.mark.parametrize("language", ["da", "sv"])
def test_language_is_detected_from_the_text(results, language):
    assert results[language]["language_accuracy"] >= 0.95
