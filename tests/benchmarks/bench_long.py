"""Benchmark: long clips in windows, on a tiny model (tiny-wan-i2v, or the embedded default
toy-shapes, one thread): memory does not grow with duration, and joining windows costs next
to nothing.

Run:  python tests/benchmarks/bench_long.py [--model toy-shapes] [--size 128x128] [--steps 4]
                                            [--repeats 2]

Prints, measured in this one run:
  - peak RSS of a 60 s clip over a 10 s clip (target <= 1.2), each made in a process of
    its own, as the service makes it: windows marked, encoded, joined, previews, signed;
  - the 60 s clip's time over the sum of its windows rendered alone, one short clip each by
    the same kind of call (text, or from an image), the fastest of interleaved repeats
    (target <= 1.05),
and a last line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

RSS_TARGET = 1.2
TIME_TARGET = 1.05


MODELS = ("tiny-wan-i2v", "toy-shapes")
DEFAULTS = {"tiny-wan-i2v": ("128x128", 4), "toy-shapes": ("32x32", 20)}
"""Size and steps: toy-shapes at what it was trained for and serves."""


def _model(name: str, steps: int):
    import torch

    torch.set_num_threads(1)
    from pipeline.builtins import builtin_config
    from pipeline.loading import load_model

    config = builtin_config(name).model_copy(update={"steps": steps})
    return load_model(name, config)


def _make(model, plan, folder: Path, identity, name: str, image=None) -> float:
    """Render `plan` as the service does; returns the seconds it took."""
    from pipeline.config import VisibleWatermarkOptions
    from pipeline.provenance.credentials import ContentCredentials
    from pipeline.render import render_video
    from pipeline.watermark import InvisibleWatermark, WatermarkKey, Watermarks

    marks = Watermarks(
        visible=VisibleWatermarkOptions(),
        invisible=InvisibleWatermark(WatermarkKey("openreel-bench-key"), 0x1234),
    )
    credentials = ContentCredentials(
        identity=identity, generator="OpenReel", generator_version="bench", title=name,
        assertion={"job_id": name},
    )  # fmt: skip
    started = time.perf_counter()
    render_video(
        model, plan, folder / f"{name}.mp4", thumbnail_path=folder / f"{name}.webp",
        spritesheet_path=folder / f"{name}.jpg", watermarks=marks, credentials=credentials,
        fingerprint=True, image=image,
    )  # fmt: skip
    return time.perf_counter() - started


def _alone(model, plan, folder: Path, identity, size: str) -> float:
    """Each window of `plan` as a short clip of its own, by the same kind of call: a text
    window from text, a window that continues the one before from an image."""
    import numpy as np

    from pipeline.request import GenerationRequest

    total = 0.0
    for window in plan.windows:
        mode = "text" if window.kind == "text" else "image"
        one = model.plan(GenerationRequest("a red kite over the sea", size=size, mode=mode,
                                           seconds=window.render / plan.fps, seed=3))  # fmt: skip
        assert len(one.windows) == 1 and one.num_frames == window.render
        image = None
        if mode == "image":
            image = np.random.default_rng(window.index).integers(
                0, 255, (1, plan.height, plan.width, 3), dtype=np.uint8
            )
        total += _make(model, one, folder, identity, f"w{window.index}", image=image)
    return total


def child(name: str, seconds: float, size: str, steps: int, repeats: int) -> None:
    """One measurement in this process: the clip, and with `repeats`, the clip and its
    windows alone in turn, the fastest of each; prints JSON."""
    from pipeline.provenance.certificates import create_identity
    from pipeline.request import GenerationRequest

    model = _model(name, steps)
    identity, _ = create_identity("OpenReel bench")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        warm = model.plan(GenerationRequest("warm up", seconds=1, size=size, seed=1))
        _make(model, warm, folder, identity, "warm")
        plan = model.plan(GenerationRequest("a red kite over the sea", seconds=seconds,
                                            size=size, seed=3))  # fmt: skip
        took, alone = [], []
        for _ in range(max(1, repeats)):  # interleaved, so drift hits both alike
            took.append(_make(model, plan, folder, identity, "clip"))
            if repeats:
                alone.append(_alone(model, plan, folder, identity, size))
        result = {"seconds": seconds, "windows": len(plan.windows), "took": min(took)}
        if alone:
            result["alone"] = min(alone)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(seconds: float, args, *, repeats: int = 0) -> dict:
    command = [sys.executable, __file__, "--child", str(seconds), "--model", args.model,
               "--size", args.size, "--steps", str(args.steps),
               "--repeats", str(repeats)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the {seconds:g} s run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=MODELS, default="tiny-wan-i2v")
    parser.add_argument("--size", help="default: 128x128 (tiny-wan-i2v), 32x32 (toy-shapes)")
    parser.add_argument("--steps", type=int, help="default: 4 (tiny-wan-i2v), 20 (toy-shapes)")
    parser.add_argument("--repeats", type=int, default=2, help="timed pairs (fastest counts)")
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    size, steps = DEFAULTS[args.model]
    args.size, args.steps = args.size or size, args.steps or steps
    if args.child is not None:
        child(args.model, args.child, args.size, args.steps, args.repeats)
        return

    # Memory: each clip alone in its process, nothing else rendered there
    short = measure(10, args)
    long = measure(60, args)
    # Time: the 60 s clip and its windows alone, in turn, in a third process
    timed = measure(60, args, repeats=args.repeats)
    long.update(took=timed["took"], alone=timed["alone"])
    rss_ratio = long["peak_rss_mib"] / short["peak_rss_mib"]
    time_ratio = long["took"] / long["alone"]
    print(f"{args.model}, {args.size}, {args.steps} steps, one thread")
    print(f"10 s clip: {short['windows']} windows, {short['took']:.1f} s, "
          f"peak RSS {short['peak_rss_mib']:.0f} MiB")  # fmt: skip
    print(f"60 s clip: {long['windows']} windows, {long['took']:.1f} s, "
          f"peak RSS {long['peak_rss_mib']:.0f} MiB")  # fmt: skip
    print(f"peak RSS 60 s / 10 s: {rss_ratio:.3f} (target <= {RSS_TARGET})")
    print(f"60 s clip / its windows alone ({long['alone']:.1f} s): {time_ratio:.3f} "
          f"(target <= {TIME_TARGET})")  # fmt: skip
    print(json.dumps({
        "model": args.model, "rss_ratio": round(rss_ratio, 3), "rss_target": RSS_TARGET,
        "time_ratio": round(time_ratio, 3), "time_target": TIME_TARGET,
        "short": short, "long": long,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
