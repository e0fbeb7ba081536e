"""The `rasa` command, hardened: `python -m rasa_addons.server run ...` takes
the same arguments as `rasa`, but
- every model it loads (at start-up, through `PUT /model`, in `rasa test`)
  must carry this deployment's signature (rasa_addons.model_signature);
- no log line carries personal data (rasa_addons.log_masking);
- Rasa's turn does less work that is not the assistant's, and can be served
  by several instances (rasa_addons.rasa_patches)."""

from __future__ import annotations

import functools
import sys

from rasa_addons import rasa_patches

# Before Rasa's imports load OpenMP (see rasa_patches).
rasa_patches.limit_embedding_threads()

from rasa.engine import loader  # noqa: E402

from rasa_addons import log_masking  # noqa: E402
from rasa_addons.model_signature import verify

_load_predict_graph_runner = loader.load_predict_graph_runner


@functools.wraps(_load_predict_graph_runner)
def _verified_load(storage_path, model_archive_path, *args, **kwargs):
    verify(model_archive_path)
    return _load_predict_graph_runner(storage_path, model_archive_path, *args, **kwargs)


def install() -> None:
    """Make every model load in this process check the signature first,
    every log record masked, and apply the serving patches."""
    loader.load_predict_graph_runner = _verified_load
    log_masking.install()
    rasa_patches.install()


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
