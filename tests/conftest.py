"""Shared test set-up: one torch thread, an isolated model cache, tiny models loaded once."""

from __future__ import annotations

import os

# Before torch is imported anywhere: two threads on a shared 2-core machine ran 10-30x slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory):
    """Tiny models are built once per test session, in a directory of the session's own
    (inherited by the CLI subprocesses through the environment)."""
    previous = os.environ.get("OPENREEL_CACHE_DIR")
    os.environ["OPENREEL_CACHE_DIR"] = str(tmp_path_factory.mktemp("openreel-cache"))
    yield
    if previous is None:
        os.environ.pop("OPENREEL_CACHE_DIR", None)
    else:
        os.environ["OPENREEL_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def load_tiny(_isolated_cache):
    """load_tiny(name) -> a VideoModel, loaded once per session through the real loader."""
    import torch

    torch.set_num_threads(1)
    from pipeline.loading import load_model
    from pipeline.tiny import tiny_model_config

    loaded = {}

    def load(name: str):
        if name not in loaded:
            loaded[name] = load_model(name, tiny_model_config(name))
        return loaded[name]

    return load
