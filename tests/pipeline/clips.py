"""Clips for watermark and provenance tests: frames from the tiny model, unmarked look-alikes,
and the edits a clip meets in the wild (re-encoding, scaling, cropping)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from PIL import Image

from pipeline.config import EncodeOptions
from pipeline.encode import encode_mp4
from pipeline.request import GenerationRequest, plan_generation
from pipeline.tiny import tiny_model_config


def generated_frames(model, *, seed: int, seconds: float = 2.0) -> np.ndarray:
    """Frames (33 at 128x128 for two seconds) of tiny-wan, as a pipeline would render them."""
    plan = plan_generation(
        GenerationRequest(prompt="a red kite over the sea", seconds=seconds, seed=seed),
        model="tiny-wan",
        config=tiny_model_config("tiny-wan"),
        max_seconds=60,
        max_prompt_chars=4000,
    )
    return model.generate(plan).frames


def natural_frames(seed: int, *, count: int = 33, size: tuple[int, int] = (128, 128)) -> np.ndarray:
    """Real-looking unmarked content: smooth colour fields, texture and a moving shape."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    base = rng.uniform(40, 200, 3) + rng.uniform(-60, 60, 3) * (x if seed % 2 else y)[..., None]
    texture = Image.fromarray(rng.integers(0, 255, (height // 8, width // 8), np.uint8)).resize(
        size, Image.Resampling.BICUBIC
    )
    base = base + (np.asarray(texture, np.float32)[..., None] - 128) * rng.uniform(0.05, 0.3)
    frames = []
    for t in range(count):
        frame = base.copy()
        cx, cy = 0.2 + 0.6 * t / count, 0.5 + 0.2 * np.sin(t / 5 + seed)
        disc = (x - cx) ** 2 + (y - cy) ** 2 < 0.02
        frame[disc] = rng.uniform(0, 255, 3) if t == 0 else frame[disc] * 0.3 + 150
        frames.append(np.clip(frame + rng.normal(0, 2, frame.shape), 0, 255))
    return np.stack(frames).astype(np.uint8)


def noise_frames(seed: int, *, count: int = 33, size: tuple[int, int] = (128, 128)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (count, size[1], size[0], 3), dtype=np.uint8)


def gradient_frames(
    seed: int, *, count: int = 33, size: tuple[int, int] = (128, 128)
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    width, height = size
    ramp = np.linspace(0, 1, width)[None, :, None] * rng.uniform(50, 255, 3)
    frames = [np.roll(np.broadcast_to(ramp, (height, width, 3)), t, axis=1) for t in range(count)]
    return np.stack(frames).astype(np.uint8)


def write(frames: np.ndarray, path: Path, *, crf: int = 20, fps: int = 16) -> Path:
    encode_mp4(frames, fps, path, EncodeOptions(crf=crf))
    return path


def read(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def resize(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.stack(
        [
            np.asarray(Image.fromarray(f).resize((width, height), Image.Resampling.BILINEAR))
            for f in frames
        ]
    )


def crop(frames: np.ndarray, share: float) -> np.ndarray:
    """Cut `share` of the width and height away, off the top-left corner's sides."""
    height, width = frames.shape[1:3]
    top, left = int(height * share / 2), int(width * share / 2)
    new_h, new_w = int(height * (1 - share)) // 2 * 2, int(width * (1 - share)) // 2 * 2
    return np.ascontiguousarray(frames[:, top : top + new_h, left : left + new_w])
