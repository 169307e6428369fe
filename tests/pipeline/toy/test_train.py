"""Training runs each stage for a few steps on tiny settings, resumes from its checkpoints,
and leaves a diffusers directory that loads and renders; eval runs on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

OPENREEL = str(Path(sys.executable).with_name("openreel"))


@pytest.mark.slow
def test_toy_train_then_eval_through_the_console_script(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = tmp_path / "toy"
    trained = subprocess.run(
        [OPENREEL, "toy", "train", str(out), "--quick"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert trained.returncode == 0, trained.stderr
    assert "vae" in trained.stderr and "denoiser" in trained.stderr  # progress bars
    assert (out / "model_index.json").is_file()
    assert {p.name for p in (out / "checkpoints").iterdir()} >= {
        "vae.pt",
        "latents.pt",
        "denoiser.pt",
        "vae_colour.pt",
        "latents_colour.pt",
        "denoiser_tune.pt",
        "decoder.pt",
        "latents_wrapped.pt",
        "continuation.pt",
    }

    again = subprocess.run(  # everything is checkpointed: a rerun resumes and only saves
        [OPENREEL, "toy", "train", str(out), "--quick"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr

    evaluated = subprocess.run(
        [OPENREEL, "toy", "eval", "--model", str(out), "--n", "2", "--steps", "2"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    last = json.loads(evaluated.stdout.strip().splitlines()[-1])
    assert last["n"] == 2 and set(last["recaption"]) == {"colour", "shape", "motion", "background"}
    assert "recaption" in evaluated.stdout.splitlines()[1]

    long = subprocess.run(
        [OPENREEL, "toy", "eval", "--model", str(out), "--n", "2", "--steps", "2",
         "--seconds", "2", "--jobs", "2"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert long.returncode == 0, long.stderr
    scored = json.loads(long.stdout.strip().splitlines()[-1])
    assert (scored["n"], scored["seconds"]) == (2, 2)
    assert set(scored["recaption"]["colour"]) == {"accuracy", "first", "last", "drift"}
    assert "drift (points)" in long.stdout

    # stages 1-5 taken from a finished model: only the continuation runs
    again = tmp_path / "again"
    continued = subprocess.run(
        [OPENREEL, "toy", "train", str(again), "--quick", "--from-model", str(out)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert continued.returncode == 0, continued.stderr
    assert "stages 1-5 marked done" in continued.stderr
    assert (again / "checkpoints" / "continuation.pt").is_file()
    assert (again / "vae" / "diffusion_pytorch_model.safetensors").read_bytes() == (
        out / "vae" / "diffusion_pytorch_model.safetensors"
    ).read_bytes()


def test_eval_refuses_a_directory_that_is_no_model(tmp_path):
    result = subprocess.run(
        [OPENREEL, "toy", "eval", "--model", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "not a diffusers model directory" in result.stderr


def test_the_denoiser_weighs_the_latent_cells_around_the_shape():
    import torch

    from pipeline.toy.train import _latent_weights

    masks = torch.zeros(1, 1, 9, 32, 32)
    masks[0, 0, 3, 10:12, 20:22] = 1  # frame 3: latent frame 2 of a 2x VAE, cells y 5, x 10
    weights = _latent_weights(masks, 6.0, 2, 2)[0, 0]
    assert weights.shape == (5, 16, 16)
    heavy = (weights == 6.0).nonzero().tolist()
    assert heavy == [[2, y, x] for y in (4, 5, 6) for x in (9, 10, 11)]  # the cell and its ring
    assert set(weights.unique().tolist()) == {1.0, 6.0}


def test_the_colour_term_sees_yellow_painted_orange_whatever_the_background():
    import torch

    from pipeline.toy import clips
    from pipeline.toy.train import _foreground_colour_error

    def clip(colour, background):
        frame = torch.tensor(clips.BACKGROUNDS[background], dtype=torch.float32).view(3, 1, 1, 1)
        video = frame.expand(3, 9, 32, 32).clone()
        video[:, :, 8:16, 8:16] = torch.tensor(clips.COLOURS[colour], dtype=torch.float32).view(
            3, 1, 1, 1
        )
        return (video / 127.5 - 1.0)[None]

    mask = torch.zeros(1, 1, 9, 32, 32)
    mask[:, :, :, 8:16, 8:16] = 1
    drawn = clip("yellow", "black")
    assert _foreground_colour_error(clip("yellow", "white"), drawn, mask) == 0
    assert _foreground_colour_error(clip("orange", "black"), drawn, mask) > 0.1
