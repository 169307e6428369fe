"""`openreel generate`: the console script end to end, and every bad input refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from service.cli import main

OPENREEL = str(Path(sys.executable).with_name("openreel"))
KITE = ("generate", "a red kite over a green hill", "--model", "tiny-wan", "--seconds", "2")
KITE += ("--seed", "3")
# A render in a fraction of a second
QUICK = ("--model", "tiny-wan", "--seconds", "1", "--size", "64x64", "--steps", "2")


def exit_code(argv: list[str]) -> int:
    """main(argv) as the shell sees it: argparse exits, our own checks return."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [OPENREEL, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_generate_writes_the_clip_and_the_same_seed_gives_the_same_frames(tmp_path):
    first = run_cli(*KITE, "-o", "kite.mp4", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)  # exactly one line of JSON
    assert first.stdout.count("\n") == 1
    assert report["path"] == "kite.mp4" and report["model"] == "tiny-wan"
    assert (report["frames"], report["fps"], report["size"], report["seed"]) == (
        33,
        16,
        "128x128",
        3,
    )
    assert report["duration"] >= 2
    assert set(report["timings"]) >= {"load", "denoise", "decode", "encode", "total"}
    assert "denoise" in first.stderr and "encode" in first.stderr  # the progress bar

    with av.open(str(tmp_path / "kite.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.average_rate == 16
        assert sum(1 for _ in container.decode(stream)) == 33
        assert float(stream.duration * stream.time_base) >= 2

    again = run_cli(*KITE, "-o", "again.mp4", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    # The same frames, each run with a watermark id of its own (so not the same bytes)
    second = json.loads(again.stdout)
    assert second["watermark_id"] != report["watermark_id"]
    assert second["job_id"] != report["job_id"] and second["job_id"].startswith("gen_")
    first_frames, second_frames = decode(tmp_path / "kite.mp4"), decode(tmp_path / "again.mp4")
    assert np.abs(first_frames - second_frames).mean() < 12  # the marks differ, nothing else


def decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)]).astype(
            np.float32
        )


def test_bad_input_from_the_console_script_exits_2_with_one_line(tmp_path):
    result = run_cli("generate", "x", "--size", "7x7", "-o", "a.mp4", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "legal sizes" in result.stderr
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def bad_config(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("limits:\n  max_seconds: -1\n")
    return path


@pytest.fixture
def offload_config(tmp_path):
    path = tmp_path / "offload.yaml"
    path.write_text(
        "default_model: tiny-wan\nmodels:\n  tiny-wan:\n    family: wan2.1\n    source: builtin:tiny-wan\n"
        "    device: cpu\n    dtype: float32\n    sizes: [64x64]\n    default_seconds: 1\n"
        "    memory:\n      cpu_offload: model\n"
    )
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--seconds", "0"], "seconds must be greater than 0"),
        (["x", "--seconds", "1000"], "over the 60 s cap"),
        (["x", "--seconds", "nan"], "seconds must be a number"),
        (["x", "--seconds", "abc"], "invalid float value: 'abc'"),
        (["x", "--model", "nope"], "unknown model 'nope'"),
        (["x", "--size", "7x7"], "size 7x7 is not available for toy-shapes"),
        (["x", "--steps", "0"], "steps must be an integer"),
        (["x", "--seed", "-5"], "seed must be an integer"),
        (["  "], "prompt must not be empty"),
        (["x", "--config", "missing.yaml"], "cannot read it"),
        (["x", "--config", "{bad_config}"], "limits.max_seconds"),
        (["x", "--config", "{offload_config}"], "memory.cpu_offload"),
        (["x", "--model", "tiny-wan", "--seconds", "20"], "cannot continue a clip"),
        (["x", "--model", "tiny-wan", "--image", "missing.png"], "--image missing.png"),
        (["x", "--model", "tiny-wan-i2v", "--extend", "missing.mp4"], "does not exist"),
        (["x", "--strength", "0.5"], "--strength applies to --edit only"),
        (["x", "--image", "a.mp4", "--edit", "a.mp4"], "not allowed with argument"),
    ],
)
def test_bad_input_exits_2_with_a_one_line_message_and_writes_nothing(
    tmp_path, monkeypatch, capsys, bad_config, offload_config, args, message
):
    monkeypatch.chdir(tmp_path)
    files_before = set(tmp_path.iterdir())
    args = [a.format(bad_config=bad_config, offload_config=offload_config) for a in args]
    code = exit_code(["generate", *args, "-o", "a.mp4"])
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err
    assert captured.err.count("\n") == 1
    assert captured.out == ""
    assert set(tmp_path.iterdir()) == files_before


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("clip.webm", "must end in .mp4"),
        ("missing/clip.mp4", "directory missing does not exist"),
        ("adir.mp4", "is a directory"),
    ],
)
def test_bad_output_path_is_refused_before_any_work(tmp_path, monkeypatch, capsys, output, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir.mp4").mkdir()
    assert exit_code(["generate", "x", "-o", output]) == 2
    assert message in capsys.readouterr().err


def test_previews_are_written_on_request(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(
        ["generate", "a kite", *QUICK, "-o", "c.mp4", "--thumbnail", "c.webp"]
        + ["--spritesheet", "c.jpg", "--quiet"]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["thumbnail"], report["spritesheet"]) == ("c.webp", "c.jpg")
    from PIL import Image

    assert Image.open("c.webp").format == "WEBP" and Image.open("c.jpg").format == "JPEG"


def without_label(frames: np.ndarray, fps: float) -> np.ndarray:
    """The frames with the visible label's box painted over in the background colour: at
    32x32 the label covers a fifth of the frame, and would be read as part of the shape."""
    from pipeline.watermark.visible import VisibleWatermark
    from service.core.settings import Settings

    frames = frames.astype(np.uint8)
    label = VisibleWatermark(Settings().watermark.visible, frames.shape[2], frames.shape[1])
    height, width = label.label.shape[:2]
    background = np.median(np.concatenate([frames[:, -1], frames[:, :, -1]], axis=1), axis=(0, 1))
    for index, frame in enumerate(frames):
        x, y = label.position(index, fps, len(frames))
        frame[y : y + height, x : x + width] = background
    return frames


def test_the_embedded_default_draws_what_the_prompt_asks(tmp_path):
    """The README's first command: toy-shapes, through recaption, marks and H.264."""
    from pipeline.toy.measure import measure

    got = []
    for seed in ("0", "1", "2"):
        made = run_cli(
            "generate",
            "a green triangle moving up on a white background",
            "--seed",
            seed,
            "-o",
            f"t{seed}.mp4",
            "--quiet",
            cwd=tmp_path,
        )
        assert made.returncode == 0, made.stderr
        report = json.loads(made.stdout)
        assert report["model"] == "toy-shapes" and report["size"] == "32x32"
        assert report["revised_prompt"] == "a green triangle moves up on a white background"
        assert report["recaption"]["reasons"] == []  # every word understood
        assert "toy-shapes" not in made.stderr  # nothing left out: nothing said
        got.append(measure(without_label(decode(tmp_path / f"t{seed}.mp4"), report["fps"])))
    # Loose enough to hold across seeds: two of three right on each attribute.
    for attribute, wanted in (("colour", "green"), ("motion", "up"), ("background", "white")):
        assert sum(getattr(g, attribute) == wanted for g in got) >= 2, got


def test_a_long_clip_is_made_in_windows_and_extended_from_the_command_line(tmp_path):
    config = tmp_path / "windows.yaml"
    config.write_text(
        "models:\n  tiny-wan-i2v:\n    family: wan2.1\n    source: builtin:tiny-wan-i2v\n"
        "    device: cpu\n    dtype: float32\n    modes: [text, image, extend]\n"
        "    sizes: [64x64]\n    default_seconds: 1\n    steps: 2\n    window_frames: 17\n"
    )
    common = ("--config", str(config), "--model", "tiny-wan-i2v", "--quiet", "--no-recaption")
    made = run_cli("generate", "a red kite", "--seconds", "3", *common, "-o", "long.mp4",
                   cwd=tmp_path)  # fmt: skip
    assert made.returncode == 0, made.stderr
    report = json.loads(made.stdout)
    assert (report["frames"], report["duration"], report["mode"]) == (48, 3.0, "text")
    assert [w["frames"] for w in report["windows"]] == [17, 16, 15]
    extended = run_cli("generate", "it climbs", "--seconds", "1", "--extend", "long.mp4",
                       *common, "-o", "more.mp4", cwd=tmp_path)  # fmt: skip
    assert extended.returncode == 0, extended.stderr
    report = json.loads(extended.stdout)
    assert (report["frames"], report["generated_seconds"]) == (64, 1.0)
    assert [w["kind"] for w in report["windows"]] == ["source", "extend"]
    with av.open(str(tmp_path / "more.mp4")) as container:
        assert sum(1 for _ in container.decode(container.streams.video[0])) == 64


def test_words_the_toy_cannot_draw_are_named_on_stderr_and_in_the_report(tmp_path):
    made = run_cli(
        "generate", "a red kite over a green hill", "-o", "k.mp4", "--quiet", cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    report = json.loads(made.stdout)
    assert report["revised_prompt"] == "a red circle stays still on a black background"
    assert set(report["recaption"]["reasons"]) >= {"unknown_words", "ignored_words"}
    notes = [line for line in made.stderr.splitlines() if line.startswith("toy-shapes ")]
    assert notes == [
        "toy-shapes does not know: kite, over, hill; left out: green (a second colour); "
        "not named, so the default: shape circle, motion stays still, background black; "
        'it draws "a red circle stays still on a black background"'
    ]
