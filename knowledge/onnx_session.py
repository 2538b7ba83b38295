"""The embedding model's ONNX session, with its graph optimised once per machine.

onnxruntime optimises the graph on every session it creates (folding the int8 weights,
fusing attention), which is most of the 0.3 s a cold `journeybot ask` spends opening the
model. The first session saves the optimised graph beside the model, named by the model's
sha256 and the onnxruntime version; later processes load it with optimisation off. Both
give the same vectors (checked in tests/knowledge/test_onnx_session.py). A folder that
cannot be written, or a saved graph that does not load, falls back to optimising again.

Its intra-op threads never busy-wait between operations: in a Slack worker, answering
beside the web process and PostgreSQL on two cores, the spinning took CPU from both
(answers p95 inside a burst 0.86-0.91 s with it, 0.57-0.76 s without; one `ask` at a time
is no slower, see docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import onnxruntime as ort

log = logging.getLogger(__name__)

NO_SPINNING = ("session.intra_op.allow_spinning", "0")


def optimised_path(model_path: Path, sha256: str) -> Path:
    return model_path.with_name(f"{model_path.stem}.optimised-{sha256[:16]}-ort{ort.__version__}.onnx")


def _options(threads: int, level: ort.GraphOptimizationLevel) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = level
    options.add_session_config_entry(*NO_SPINNING)
    if threads:
        options.intra_op_num_threads = threads
    return options


def _session(path: Path, options: ort.SessionOptions) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def open_session(model_path: Path, sha256: str, *, threads: int = 0) -> ort.InferenceSession:
    """A session for `model_path` (whose pinned digest is `sha256`)."""
    saved = optimised_path(model_path, sha256)
    if saved.is_file():
        try:
            return _session(saved, _options(threads, ort.GraphOptimizationLevel.ORT_DISABLE_ALL))
        except Exception:  # noqa: BLE001 - a damaged cache file is rebuilt, never fatal
            log.warning("the saved optimised model %s did not load; optimising again", saved, exc_info=True)
            saved.unlink(missing_ok=True)
    level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    partial = saved.with_name(f"{saved.name}.{os.getpid()}.partial")
    if os.access(saved.parent, os.W_OK):
        options = _options(threads, level)
        options.optimized_model_filepath = str(partial)
        try:
            session = _session(model_path, options)
            os.replace(partial, saved)  # whole or absent: a reader never sees half a file
            return session
        except Exception:  # noqa: BLE001 - keeping the graph is an optimisation, never fatal
            log.debug("could not keep the optimised model in %s", saved.parent, exc_info=True)
            partial.unlink(missing_ok=True)
    return _session(model_path, _options(threads, level))
