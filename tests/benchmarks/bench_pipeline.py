"""Benchmark: what `pipeline` costs over a bare diffusers call, and H.264 encode speed.

Run:  OMP_NUM_THREADS=1 python tests/benchmarks/bench_pipeline.py [--repeats N]

Prints ratios measured in this one run (never absolute targets in tests: these machines are
shared and noisy). Targets: pipeline / bare <= 1.05; encode <= 10 ms per 832x480 frame.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

from diffusers import WanPipeline  # noqa: E402

from pipeline.config import EncodeOptions  # noqa: E402
from pipeline.encode import encode_mp4  # noqa: E402
from pipeline.loading import load_model  # noqa: E402
from pipeline.render import render_video  # noqa: E402
from pipeline.request import GenerationRequest  # noqa: E402
from pipeline.tiny import ensure_tiny_model, tiny_model_config  # noqa: E402

PROMPT = "a red kite over a green hill"
FRAMES, SIZE, STEPS, SEED = 33, 256, 8, 0


def bench_overhead(repeats: int, workdir: Path) -> dict:
    source = ensure_tiny_model("tiny-wan")
    bare = WanPipeline.from_pretrained(source)
    bare.set_progress_bar_config(disable=True)
    model = load_model("tiny-wan", tiny_model_config("tiny-wan"))
    plan = model.plan(
        GenerationRequest(PROMPT, seconds=2, size=f"{SIZE}x{SIZE}", steps=STEPS, seed=SEED)
    )
    assert plan.num_frames == FRAMES

    def run_bare() -> float:
        started = time.perf_counter()
        bare(
            PROMPT,
            negative_prompt=plan.negative_prompt,
            height=SIZE,
            width=SIZE,
            num_frames=FRAMES,
            num_inference_steps=STEPS,
            guidance_scale=plan.guidance,
            generator=torch.Generator("cpu").manual_seed(SEED),
        )
        return time.perf_counter() - started

    stages: list[dict[str, float]] = []

    def run_pipeline() -> float:
        started = time.perf_counter()
        rendered = render_video(
            model,
            plan,
            workdir / "clip.mp4",
            thumbnail_path=workdir / "clip.webp",
            spritesheet_path=workdir / "clip.jpg",
        )
        elapsed = time.perf_counter() - started
        stages.append({**rendered.timings, "rest": elapsed - sum(rendered.timings.values())})
        return elapsed

    run_bare(), run_pipeline()  # warm-up
    stages.clear()
    bare_times, pipeline_times = [], []
    for _ in range(repeats):  # interleaved, so drift on a shared machine hits both alike
        bare_times.append(run_bare())
        pipeline_times.append(run_pipeline())
    # Each pipeline run came right after its bare call, under the same machine conditions:
    # the median of those paired ratios cancels the drift of a shared machine best.
    paired = [ours / bare for ours, bare in zip(pipeline_times, bare_times, strict=True)]
    return {
        "bare_s": round(statistics.median(bare_times), 3),
        "pipeline_s": round(statistics.median(pipeline_times), 3),
        "ratio": round(statistics.median(paired), 3),
        "min_ratio": round(min(pipeline_times) / min(bare_times), 3),
        # Where the pipeline's time goes (medians, s): the model call is denoise + decode,
        # as in the bare call; encode and "rest" (previews, moves) are what it adds.
        "stages_s": {
            name: round(statistics.median(s[name] for s in stages), 3) for name in stages[0]
        },
        "bare_spread_s": round(max(bare_times) - min(bare_times), 3),
    }


def synthetic_clip(frames: int = 81, height: int = 480, width: int = 832) -> np.ndarray:
    """Smooth moving colour fields with a little grain: close to what video models output."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    grain = rng.normal(0, 6, (height + frames * 4, width + frames * 4, 3))
    clip = []
    for t in range(frames):
        base = np.sin((x + 5 * t) / 40.0) + np.cos((y - 3 * t) / 35.0)
        rgb = base[..., None] * np.array([60, 40, 80]) + 128 + grain[t : t + height, t : t + width]
        clip.append(rgb.clip(0, 255).astype(np.uint8))
    return np.stack(clip)


def bench_encode(repeats: int, workdir: Path) -> dict:
    clip = synthetic_clip()
    options = EncodeOptions(threads=1)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        encode_mp4(clip, 16, workdir / "encode.mp4", options)
        times.append(time.perf_counter() - started)
    per_frame_ms = min(times) / len(clip) * 1000
    return {
        "frames": len(clip),
        "size": "832x480",
        "preset": options.preset,
        "ms_per_frame": round(per_frame_ms, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        overhead = bench_overhead(args.repeats, workdir)
        encode = bench_encode(args.repeats, workdir)
    print(
        f"pipeline vs bare diffusers, tiny-wan {FRAMES} frames {SIZE}x{SIZE} {STEPS} steps: "
        f"bare {overhead['bare_s']} s, pipeline+encode {overhead['pipeline_s']} s, "
        f"ratio {overhead['ratio']} (median of paired runs; target <= 1.05; ratio of minima {overhead['min_ratio']})"
    )
    print(
        "pipeline stages (median s): "
        + ", ".join(f"{name} {value}" for name, value in overhead["stages_s"].items())
        + f"; the bare call's own spread over the run: {overhead['bare_spread_s']} s"
    )
    print(
        f"H.264 encode, {encode['size']}, {encode['frames']} frames, one thread, "
        f"preset {encode['preset']}: {encode['ms_per_frame']} ms/frame (target <= 10)"
    )
    print(json.dumps({"overhead": overhead, "encode": encode}))


if __name__ == "__main__":
    main()
