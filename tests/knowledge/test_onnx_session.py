"""The optimised graph kept beside the model: same vectors, rebuilt when damaged."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from knowledge.embeddings import MiniLMEmbeddings
from knowledge.model_files import MODEL_FILES
from knowledge.onnx_session import NO_SPINNING, open_session, optimised_path

TEXTS = ["CFO keeps asking about ROI, what do I send?", "security review questionnaire for IT", "x"]


def _copy(model_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "model"
    copy.mkdir()
    for name in MODEL_FILES:
        shutil.copy2(model_dir / name, copy / name)
    return copy


def test_the_saved_graph_gives_the_vectors_of_a_fresh_optimisation(model_dir: Path, tmp_path: Path) -> None:
    copy = _copy(model_dir, tmp_path)
    saved = optimised_path(copy / "model.onnx", MODEL_FILES["model.onnx"][2])
    assert not saved.exists()
    fresh = MiniLMEmbeddings(copy).embed(TEXTS)
    assert saved.is_file() and not list(copy.glob("*.partial"))
    reloaded = MiniLMEmbeddings(copy).embed(TEXTS)
    assert np.allclose(fresh, reloaded, atol=1e-6)
    assert np.allclose(fresh, MiniLMEmbeddings(model_dir).embed(TEXTS), atol=1e-5)


def test_a_damaged_saved_graph_is_rebuilt(model_dir: Path, tmp_path: Path) -> None:
    copy = _copy(model_dir, tmp_path)
    expected = MiniLMEmbeddings(copy).embed(TEXTS)
    saved = optimised_path(copy / "model.onnx", MODEL_FILES["model.onnx"][2])
    saved.write_bytes(b"not an onnx graph")
    assert np.allclose(MiniLMEmbeddings(copy).embed(TEXTS), expected, atol=1e-6)
    assert saved.stat().st_size > 1_000_000  # optimised and kept again


def test_sessions_never_busy_wait_whether_optimised_now_or_loaded(model_dir: Path, tmp_path: Path) -> None:
    copy = _copy(model_dir, tmp_path)
    digest = MODEL_FILES["model.onnx"][2]
    key, off = NO_SPINNING
    fresh = open_session(copy / "model.onnx", digest)
    assert optimised_path(copy / "model.onnx", digest).is_file()
    loaded = open_session(copy / "model.onnx", digest, threads=2)
    for session in (fresh, loaded):
        assert session.get_session_options().get_session_config_entry(key) == off
