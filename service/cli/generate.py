"""`openreel generate PROMPT -o OUT.mp4`: one clip, on this machine, without the service."""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path

from pipeline.errors import InvalidRequestError, ModelConfigError
from pipeline.request import GenerationRequest, plan_generation
from service.cli.common import EXIT_OK, UsageError, print_json, quiet_libraries
from service.settings import ConfigError, load_settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "generate",
        help="render one clip from a prompt into an MP4 file",
        description="Render one clip from a prompt. Progress goes to stderr; one line of "
        "JSON describing the clip goes to stdout.",
    )
    parser.add_argument("prompt", help="what the clip should show")
    parser.add_argument("-o", "--output", required=True, type=Path, help="MP4 file to write")
    parser.add_argument("--config", type=Path, help="YAML config (default: built-in defaults)")
    parser.add_argument("--model", help="model name (default: the config's default_model)")
    parser.add_argument("--seconds", type=float, help="clip length in seconds")
    parser.add_argument("--size", help="WIDTHxHEIGHT, one of the model's sizes")
    parser.add_argument("--seed", type=int, help="random seed (default: random, reported)")
    parser.add_argument("--steps", type=int, help="denoising steps")
    parser.add_argument("--guidance", type=float, help="classifier-free guidance scale")
    parser.add_argument("--negative-prompt", help="what the clip should not show")
    parser.add_argument(
        "--recaption-mode", choices=["on", "off", "auto"], help="override recaption.mode"
    )
    parser.add_argument(
        "--no-recaption",
        dest="recaption_mode",
        action="store_const",
        const="off",
        help="render the prompt as written (same as --recaption-mode off)",
    )
    parser.add_argument("--thumbnail", type=Path, help="also write a WebP thumbnail here")
    parser.add_argument("--spritesheet", type=Path, help="also write a JPEG spritesheet here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # 1. Check everything the user gave before loading anything heavy
    try:
        settings = load_settings(args.config)
        name, model_config = settings.resolve_model(args.model)
        plan = plan_generation(
            GenerationRequest(
                prompt=args.prompt,
                negative_prompt=args.negative_prompt,
                seconds=args.seconds,
                size=args.size,
                seed=args.seed,
                steps=args.steps,
                guidance=args.guidance,
            ),
            model=name,
            config=model_config,
            max_seconds=settings.limits.max_seconds,
            max_prompt_chars=settings.limits.max_prompt_chars,
        )
    except (ConfigError, InvalidRequestError) as exc:
        raise UsageError(str(exc)) from None
    _check_output(args.output, suffix=".mp4", option="--output")
    for path, suffix, option in (
        (args.thumbnail, ".webp", "--thumbnail"),
        (args.spritesheet, ".jpg", "--spritesheet"),
    ):
        if path is not None:
            _check_output(path, suffix=suffix, option=option)

    # 2. Load the model
    quiet_libraries()
    from pipeline.loading import load_model
    from pipeline.render import render_video
    from service.cli.progress import TerminalProgress

    started = time.perf_counter()
    try:
        model = load_model(name, model_config, cache_dir=settings.cache_dir)
    except ModelConfigError as exc:
        raise UsageError(f"model {name}: {exc}") from None
    load_seconds = time.perf_counter() - started

    # 3. Recaption, fitted to this model's text encoder
    from service.recaptioning import build_recaptioner, recaption_target

    started_recaption = time.perf_counter()
    recaptioned = build_recaptioner(settings).recaption(
        plan.prompt,
        recaption_target(model_config, model.tokenizer),
        seed=plan.seed,
        mode=args.recaption_mode,
    )
    if recaptioned.status == "blocked":
        raise UsageError("the recaption model refused this prompt; nothing was generated")
    plan = dataclasses.replace(plan, prompt=recaptioned.prompt)
    recaption_seconds = time.perf_counter() - started_recaption

    # 4. Render
    with TerminalProgress(plan.steps, enabled=not args.quiet) as progress:
        rendered = render_video(
            model,
            plan,
            args.output,
            thumbnail_path=args.thumbnail,
            spritesheet_path=args.spritesheet,
            encode=settings.encode,
            on_progress=progress,
        )

    # 5. Report
    timings = {"load": load_seconds, "recaption": recaption_seconds, **rendered.timings}
    timings["total"] = time.perf_counter() - started
    report = {
        "path": str(args.output),
        "model": plan.model,
        "family": plan.family,
        "frames": plan.num_frames,
        "fps": plan.fps,
        "duration": plan.duration,
        "size": plan.size,
        "seed": plan.seed,
        "steps": plan.steps,
        "guidance": plan.guidance,
        "prompt": recaptioned.original,
        "revised_prompt": plan.prompt,
        "recaption": {
            "status": recaptioned.status,
            "reasons": list(recaptioned.reasons),
            "backend": recaptioned.backend,
            "tokens": recaptioned.tokens,
        },
        "timings": {stage: round(seconds, 3) for stage, seconds in timings.items()},
    }
    if args.thumbnail is not None:
        report["thumbnail"] = str(args.thumbnail)
    if args.spritesheet is not None:
        report["spritesheet"] = str(args.spritesheet)
    print_json(report)
    return EXIT_OK


def _check_output(path: Path, *, suffix: str, option: str) -> None:
    if path.suffix.lower() != suffix:
        raise UsageError(f"{option} {path} must end in {suffix}")
    if path.is_dir():
        raise UsageError(f"{option} {path} is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"{option} {path}: directory {parent} is not writable")
