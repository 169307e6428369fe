"""`openreel generate PROMPT -o OUT.mp4`: one clip, on this machine, without the service.

The clip is made by the worker's own path (`service.jobs.production`): moderated,
watermarked and signed like the service's, and registered in the data dir's database under a
job id gen_..., so that `openreel verify` can name it."""

from __future__ import annotations

import argparse
import os
import time
import uuid
from pathlib import Path

from sqlalchemy.engine import Engine

from pipeline.config import ModelConfig
from pipeline.errors import InvalidRequestError, ModelConfigError
from pipeline.request import GenerationPlan, GenerationRequest, plan_generation
from service.cli.common import EXIT_OK, UsageError, print_json, quiet_libraries
from service.core.runtime import Runtime
from service.core.settings import ConfigError, Settings, load_settings
from service.domain.audit import Actor
from service.domain.screening import PromptBlocked, screen_prompt
from service.jobs.outputs import LocalOutputs, OutputPaths
from service.jobs.production import Made, ModerationBlocked, Order, Production, RecaptionRefused
from service.moderation import Moderator

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

    database = _Database(settings)
    try:
        return _generate(args, database, name, model_config, plan)
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
    order = Order(
        job_id=job_id,
        plan=plan,
        origin="cli",
        title=args.output.name,
        recaption_mode=args.recaption_mode,
    )
    outputs = LocalOutputs(OutputPaths(args.output, args.thumbnail, args.spritesheet))
    try:
        production = Production(
            settings, lambda: database.engine, actor=CLI_ACTOR, moderator=moderator
        )
        with TerminalProgress(plan.steps, enabled=not args.quiet) as progress:
            made = production.produce(order, model, outputs, on_progress=progress)
    except ConfigError as exc:  # the signing identity or a watermark layer cannot be had
        raise UsageError(str(exc)) from None
    except RecaptionRefused:
        raise UsageError("the recaption model refused this prompt; nothing was generated") from None
    except ModerationBlocked as exc:
        raise _blocked(exc) from None

    # 5. Report
    print_json(_report(made, job_id, load_seconds, time.perf_counter() - started))
    return EXIT_OK


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
    for variant in ("thumbnail", "spritesheet"):
        if variant in made.files:
            report[variant] = made.files[variant]
    return report


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
