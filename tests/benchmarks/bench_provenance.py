"""Benchmark: post-processing of one clip (81 frames at 832x480, one thread): visible mark,
invisible mark, H.264, C2PA signing, in ms per frame; and detection time per clip.

Run:  OMP_NUM_THREADS=1 python tests/benchmarks/bench_provenance.py [--repeats N]

Target: all four stages together <= 1.5 s per clip. Prints the stages, the total, its ratio
to the target, and a last line of JSON.
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

from pipeline.config import EncodeOptions, VisibleWatermarkOptions  # noqa: E402
from pipeline.encode import encode_mp4  # noqa: E402
from pipeline.provenance.certificates import create_identity  # noqa: E402
from pipeline.provenance.credentials import ContentCredentials  # noqa: E402
from pipeline.watermark import InvisibleWatermark, WatermarkKey  # noqa: E402
from pipeline.watermark.invisible import detect, mean_luma_of_file  # noqa: E402
from pipeline.watermark.visible import VisibleWatermark  # noqa: E402

FRAMES, WIDTH, HEIGHT, FPS = 81, 832, 480, 16
TARGET_SECONDS = 1.5
SIZES = [(832, 480), (480, 832), (1280, 720), (720, 1280)]


def clip(seed: int) -> np.ndarray:
    """Real-looking moving content: a textured colour field panning, a moving disc."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    field = (
        np.sin(x / 37.0 + rng.uniform(0, 6))[..., None] * rng.uniform(20, 60, 3)
        + np.cos(y / 23.0)[..., None] * rng.uniform(20, 60, 3)
        + 128
    )
    grain = rng.normal(0, 6, (HEIGHT, WIDTH, 1)).astype(np.float32)
    frames = np.empty((FRAMES, HEIGHT, WIDTH, 3), np.uint8)
    for t in range(FRAMES):
        frame = np.roll(field + grain, 3 * t, axis=1)
        disc = (x - 100 - 7 * t) ** 2 + (y - 240) ** 2 < 60**2
        frame[disc] = (220, 80, 40)
        frames[t] = np.clip(frame, 0, 255)
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    key = WatermarkKey("benchmark key, not a secret one")
    identity, _ = create_identity("Benchmark")
    credentials = ContentCredentials(
        identity=identity,
        generator="OpenReel",
        generator_version="bench",
        title="bench.mp4",
        assertion={"job_id": "video_bench", "watermark_id": "0000000004d2"},
    )
    visible = VisibleWatermark(VisibleWatermarkOptions(), WIDTH, HEIGHT)
    stages: dict[str, list[float]] = {
        "visible_mark": [],
        "invisible_mark": [],
        "h264": [],
        "c2pa": [],
        "detect": [],
    }
    detected = []
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            frames = clip(repeat)
            path = Path(scratch) / f"bench{repeat}.mp4"
            mark = InvisibleWatermark(key, 1234 + repeat)
            steps = (
                ("visible_mark", visible.apply, (frames, FPS)),
                ("invisible_mark", mark.apply, (frames,)),
                ("h264", encode_mp4, (frames, FPS, path, EncodeOptions())),
                ("c2pa", credentials.sign, (path,)),
            )
            for name, step, step_args in steps:
                started = time.perf_counter()
                step(*step_args)
                stages[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            found = detect(mean_luma_of_file(path), key, sizes=SIZES)
            stages["detect"].append(time.perf_counter() - started)
            detected.append(found.detected and found.mark_id == 1234 + repeat)

    median = {name: statistics.median(times) for name, times in stages.items()}
    post = sum(median[name] for name in ("visible_mark", "invisible_mark", "h264", "c2pa"))
    print(
        f"post-processing of {FRAMES} frames at {WIDTH}x{HEIGHT}, one thread, median of {args.repeats}:"
    )
    for name in ("visible_mark", "invisible_mark", "h264", "c2pa"):
        print(f"  {name:15s} {median[name] * 1000 / FRAMES:7.2f} ms/frame  {median[name]:6.3f} s")
    print(f"  {'total':15s} {post * 1000 / FRAMES:7.2f} ms/frame  {post:6.3f} s")
    print(f"total / target ({TARGET_SECONDS} s): {post / TARGET_SECONDS:.2f}")
    print(
        f"detection (decode + read, 4 sizes): {median['detect']:.3f} s per clip; found {sum(detected)}/{len(detected)}"
    )
    print(
        json.dumps(
            {
                "ms_per_frame": {
                    k: round(v * 1000 / FRAMES, 2) for k, v in median.items() if k != "detect"
                },
                "total_seconds": round(post, 3),
                "target_ratio": round(post / TARGET_SECONDS, 3),
                "detect_seconds_per_clip": round(median["detect"], 3),
                "detected": sum(detected),
                "clips": len(detected),
            }
        )
    )


if __name__ == "__main__":
    main()
