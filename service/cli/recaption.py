"""`openreel recaption PROMPT`: preview the rewrite a prompt would get, without rendering."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.errors import InvalidRequestError, ModelConfigError
from service.cli.common import EXIT_OK, UsageError, print_json, quiet_libraries
from service.core.settings import ConfigError, load_settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "recaption",
        help="show how a prompt would be rewritten for the model",
        description="Rewrite a prompt as `generate` would, and print one line of JSON: "
        "original, prompt, status, reasons, backend, tokens. Exits 0 also when the "
        "rewrite is blocked (status blocked).",
    )
    parser.add_argument("prompt", help="the prompt to rewrite")
    parser.add_argument("--config", type=Path, help="YAML config (default: built-in defaults)")
    parser.add_argument("--model", help="target model (default: the config's default_model)")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for the rules backend and sampling (default 0)"
    )
    parser.add_argument("--mode", choices=["on", "off", "auto"], help="override recaption.mode")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # 1. Check the input
    try:
        settings = load_settings(args.config)
        name, model_config = settings.resolve_model(args.model)
    except (ConfigError, InvalidRequestError) as exc:
        raise UsageError(str(exc)) from None
    if not args.prompt.strip():
        raise UsageError("prompt must not be empty")
    if len(args.prompt) > settings.limits.max_prompt_chars:
        raise UsageError(f"prompt is over {settings.limits.max_prompt_chars} characters")
    if args.seed < 0:
        raise UsageError(f"seed must be 0 or more, got {args.seed}")

    # 2. The target model's tokenizer, to count tokens as its text encoder will
    quiet_libraries()
    from pipeline.loading import load_tokenizer
    from service.jobs.recaptioning import build_recaptioner, recaption_target

    try:
        tokenizer = load_tokenizer(model_config, cache_dir=settings.cache_dir)
    except ModelConfigError as exc:
        raise UsageError(f"model {name}: {exc}") from None

    # 3. Rewrite and report
    result = build_recaptioner(settings).recaption(
        args.prompt.strip(),
        recaption_target(model_config, tokenizer),
        seed=args.seed,
        mode=args.mode,
    )
    print_json({**result.to_dict(), "target": {"model": name, "family": model_config.family}})
    return EXIT_OK
