"""The lexical index imports bm25s without JAX (index._bm25_module): a fresh
process builds an index, never initialises JAX, and can still import it."""

import subprocess
import sys

from rasa_addons.knowledge.publish import ROOT

PROBE = """
import sys
from rasa_addons.knowledge import index
retriever = index._bm25(["hvor finder jeg mit bruger-id", "hvordan flytter jeg"])
assert retriever.scores["num_docs"] == 2
assert "jax" not in sys.modules, "bm25s imported JAX"
import bm25s.selection
assert not bm25s.selection.JAX_IS_AVAILABLE
import jax  # still importable for whoever needs it
print("ok")
"""


def test_bm25s_builds_an_index_without_initialising_jax():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
    assert "Unable to initialize backend" not in done.stderr
