"""`openreel generate PROMPT -o OUT.mp4`: one clip, on this machine, without the service.

The clip is made by the worker's own path (`service.jobs.production`): moderated,
watermarked and signed like the service's, and registered in the data dir's database under a
job id gen_..., so that `openreel verify` can name it."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy.engine import Engine

from pipeline.config import ModelConfig
from pipeline.encode import probe_video
from pipeline.errors import InvalidRequestError, ModelConfigError
from pipeline.request import GenerationPlan, GenerationRequest, plan_generation
from pipeline.windows import FileSource
from recaption import result as codes
from service.cli.common import EXIT_OK, UsageError, print_json, quiet_libraries
from service.core.runtime import Runtime
from service.core.settings import ConfigError, Settings, load_settings
from service.domain.audit import Actor
from service.domain.screening import PromptBlocked, screen_prompt
from service.jobs.inputs import made_here
from service.jobs.outputs import LocalOutputs, OutputPaths
from service.jobs.production import Made, ModerationBlocked, Order, Production, RecaptionRefused
from service.moderation import Moderator
from service.provenance.marks import ClipSource

CLI_ACTOR = Actor(id=None, name="cli:generate")


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
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--image", type=Path, help="start from this image (its first frame)")
    start.add_argument(
        "--extend", type=Path, metavar="VIDEO", help="continue this clip by --seconds more"
    )
    start.add_argument("--edit", type=Path, metavar="VIDEO", help="transform this clip")
    parser.add_argument("--strength", type=float, help="how much of the clip --edit re-renders")
    parser.add_argument("--thumbnail", type=Path, help="also write a WebP thumbnail here")
    parser.add_argument("--spritesheet", type=Path, help="also write a JPEG spritesheet here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # 1. Check everything the user gave before loading anything heavy
    try:
        settings = load_settings(args.config)
        name, model_config = settings.resolve_model(args.model)
        start = _start(args, model_config.family_spec.fps, settings.limits.max_seconds)
        plan = plan_generation(
            GenerationRequest(
                prompt=args.prompt,
                negative_prompt=args.negative_prompt,
                seconds=args.seconds,
                size=start.size or args.size,
                seed=args.seed,
                steps=args.steps,
                guidance=args.guidance,
                mode=start.mode,  # type: ignore[arg-type]
                source_frames=start.frames,
                strength=args.strength,
            ),
            model=name,
            config=model_config,
            max_seconds=settings.limits.max_seconds,
            max_prompt_chars=settings.limits.max_prompt_chars,
        )
    except (ConfigError, InvalidRequestError) as exc:
        raise UsageError(str(exc)) from None
    if start.image is not None and start.image.shape[1:3] != (plan.height, plan.width):
        raise UsageError(
            f"--image {args.image} is {start.image.shape[2]}x{start.image.shape[1]}, and the "
            f"clip is {plan.size}: they must match (or pass --size)"
        )
    _check_output(args.output, suffix=".mp4", option="--output")
    for path, suffix, option in (
        (args.thumbnail, ".webp", "--thumbnail"),
        (args.spritesheet, ".jpg", "--spritesheet"),
    ):
        if path is not None:
            _check_output(path, suffix=suffix, option=option)

    database = _Database(settings)
    try:
        return _generate(args, database, name, model_config, plan, start)
    finally:
        database.close()


class _Database:
    """The data dir's database (the audit log and the outputs registry), opened on first
    use: a run refused before it needs one leaves no data dir behind."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._runtime: Runtime | None = None

    @property
    def engine(self) -> Engine:
        if self._runtime is None:
            self._runtime = Runtime.open(self.settings)
        return self._runtime.engine

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()


def _blocked(exc: ModerationBlocked | PromptBlocked) -> UsageError:
    stage = exc.verdict.stage.replace("_", " ")
    categories = ", ".join(exc.verdict.categories)
    return UsageError(
        f"moderation blocked the {stage} (categories: {categories}); nothing was generated"
    )


def _generate(
    args: argparse.Namespace,
    database: _Database,
    name: str,
    model_config: ModelConfig,
    plan: GenerationPlan,
    start: _Start,
) -> int:
    # 2. Moderate the prompt as written, before any model sees it
    settings = database.settings
    job_id = f"gen_{uuid.uuid4().hex}"
    moderator = Moderator(settings.moderation, cache_dir=settings.cache_dir)
    try:
        screen_prompt(
            moderator,
            lambda: database.engine,
            plan.prompt,
            mode="enforce",
            actor=CLI_ACTOR,
            target_type="cli_job",
            target_id=job_id,
        )
    except PromptBlocked as exc:
        raise _blocked(exc) from None

    # 3. Load the model
    quiet_libraries()
    from pipeline.loading import load_model
    from service.cli.progress import TerminalProgress

    started = time.perf_counter()
    try:
        model = load_model(name, model_config, cache_dir=settings.cache_dir)
    except ModelConfigError as exc:
        raise UsageError(f"model {name}: {exc}") from None
    load_seconds = time.perf_counter() - started

    # 4. Production, as the worker runs it: recaption, moderate the rewrite, render, mark,
    #    sign, write the files, register the clip so that `openreel verify` can name it
    outputs = LocalOutputs(OutputPaths(args.output, args.thumbnail, args.spritesheet))
    try:
        production = Production(
            settings, lambda: database.engine, actor=CLI_ACTOR, moderator=moderator
        )
        clip = start.clip
        if clip is not None:  # a clip made here names its job; any other is an upload
            clip = dataclasses.replace(clip, job_id=made_here(clip.path, production.provenance))
        order = Order(
            job_id=job_id,
            plan=plan,
            origin="cli",
            title=args.output.name,
            recaption_mode=args.recaption_mode,
            source=clip,
        )
        calls = [w for w in plan.windows if w.kind != "source"]
        with TerminalProgress(
            plan.steps, windows=len(calls), source=len(calls) < len(plan.windows),
            enabled=not args.quiet,
        ) as progress:  # fmt: skip
            made = production.produce(
                order, model, outputs, on_progress=progress, image=start.image,
                source=start.source,
            )  # fmt: skip
    except ConfigError as exc:  # the signing identity or a watermark layer cannot be had
        raise UsageError(str(exc)) from None
    except RecaptionRefused:
        raise UsageError("the recaption model refused this prompt; nothing was generated") from None
    except ModerationBlocked as exc:
        raise _blocked(exc) from None

    # 5. Report
    note = _caption_note(made)
    if note is not None:
        print(note, file=sys.stderr)
    print_json(_report(made, job_id, load_seconds, time.perf_counter() - started))
    return EXIT_OK


def _caption_note(made: Made) -> str | None:
    """One line when the model's caption form had to substitute or leave out words."""
    recaptioned = made.recaption
    substituted = {codes.UNKNOWN_WORDS, codes.IGNORED_WORDS}.intersection(recaptioned.reasons)
    if not substituted or not recaptioned.detail:
        return None
    return f'{made.plan.model} {recaptioned.detail}; it draws "{made.plan.prompt}"'


def _report(made: Made, job_id: str, load_seconds: float, total_seconds: float) -> dict:
    plan, recaptioned = made.plan, made.recaption
    timings = {"load": load_seconds, **made.timings, "total": total_seconds}
    report = {
        "path": made.files["video"],
        "job_id": job_id,
        "watermark_id": f"{made.mark_id:012x}",
        "model": plan.model,
        "family": plan.family,
        "frames": plan.num_frames,
        "fps": plan.fps,
        "duration": plan.duration,
        "mode": plan.mode,
        "generated_seconds": plan.generated_seconds,
        "windows": made.windows,
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
            "detail": recaptioned.detail,
        },
        "timings": {stage: round(seconds, 3) for stage, seconds in timings.items()},
    }
    for variant in ("thumbnail", "spritesheet"):
        if variant in made.files:
            report[variant] = made.files[variant]
    return report


@dataclass(frozen=True)
class _Start:
    """What the clip starts from: nothing (text), an image, or a clip to extend or edit."""

    mode: str = "text"
    image: np.ndarray | None = None
    source: FileSource | None = None
    clip: ClipSource | None = None
    frames: int = 0
    size: str | None = None


def _start(args: argparse.Namespace, fps: int, max_seconds: float) -> _Start:
    if args.strength is not None and args.edit is None:
        raise UsageError("--strength applies to --edit only")
    if args.image is not None:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(args.image) as image:
                pixels = np.asarray(image.convert("RGB"))[None].copy()
        except (OSError, UnidentifiedImageError) as exc:
            raise UsageError(
                f"--image {args.image}: not an image that can be read ({exc})"
            ) from None
        return _Start("image", image=pixels)
    for mode in ("extend", "edit"):
        path = getattr(args, mode)
        if path is None:
            continue
        if not Path(path).is_file():
            raise UsageError(f"--{mode} {path} does not exist")
        try:
            info = probe_video(Path(path), max_frames=int(max_seconds * 120) + 1)
        except ValueError as exc:
            raise UsageError(f"--{mode} {path} cannot be used: {exc}") from None
        clip = ClipSource(Path(path), Path(path).name, None)  # its job: once provenance is up
        return _Start(mode, source=FileSource(Path(path), fps), clip=clip,
                      frames=info.frames_at(fps), size=f"{info.width}x{info.height}")  # fmt: skip
    return _Start()


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
