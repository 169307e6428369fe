"""`openreel toy train OUT_DIR` and `openreel toy eval [--n N]`: the toy-shapes model, trained
here from a seed, and how well it follows prompts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from service.cli.common import EXIT_OK, UsageError, quiet_libraries


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("toy", help="train or evaluate the toy-shapes model")
    toy = parser.add_subparsers(dest="toy_command", metavar="ACTION")
    toy.required = True

    train = toy.add_parser(
        "train",
        help="train the toy model into OUT_DIR (resumes from its checkpoints)",
        description="Train the toy-shapes model from a seed, in stages (VAE, latents, "
        "denoiser; then the VAE with a colour term, its latents and the denoiser tuned on "
        "them; the decoder alone; last the transformer taught to continue a clip from its "
        "first frame), with progress bars and checkpoints in OUT_DIR/checkpoints; a rerun "
        "resumes. About 90 minutes on one CPU thread with the default settings.",
    )
    train.add_argument("out_dir", type=Path)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--quick", action="store_true", help="a few steps of each stage (tests)")
    train.add_argument(
        "--from-model",
        type=Path,
        metavar="DIR",
        help="count stages 1-5 as done with the modules of the finished model in DIR (the "
        "weights shipped before the continuation stage, for one) and train only the stages "
        "after them",
    )
    train.set_defaults(run=run_train)

    evaluate = toy.add_parser(
        "eval",
        help="accuracy of colour, shape, motion and background on held-out prompts",
        description="Render held-out combinations from short prompts, with recaption and "
        "raw, and read each clip's attributes back from its frames. Prints a table; the "
        "last line is one line of JSON.",
    )
    evaluate.add_argument(
        "--model", type=Path, help="toy model directory (default: the shipped toy-shapes)"
    )
    evaluate.add_argument("--n", type=int, default=100, help="prompts (default 100)")
    evaluate.add_argument("--steps", type=int, default=20)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument(
        "--seconds",
        type=float,
        help="render clips this long, window by window as the service does, and score them "
        "per one-second window, with drift (the last ten seconds against the first ten); "
        "default: one window, scored whole",
    )
    evaluate.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="with --seconds: processes to spread the prompts over, one thread each "
        "(the scores do not depend on it)",
    )
    evaluate.set_defaults(run=run_eval)

    sheet = toy.add_parser(
        "sheet",
        help="a PNG of a few prompts beside frames of their clips",
        description="Render each prompt (recaptioned as the service would) and draw it beside "
        "five frames of its clip.",
    )
    sheet.add_argument("out", type=Path, help="PNG file to write")
    sheet.add_argument("prompts", nargs="+", help="short prompts")
    sheet.add_argument("--model", type=Path, help="toy model directory (default: the shipped one)")
    sheet.add_argument("--seed", type=int, default=0)
    sheet.add_argument(
        "--seconds", type=float, help="render clips this long and show a frame every --every s"
    )
    sheet.add_argument("--every", type=float, default=5.0, help="seconds between frames shown")
    sheet.set_defaults(run=run_sheet)


def _rules_recaption(model):
    """Short prompt -> what toy-shapes gets in the service: the rules recaptioner, given the
    preset's caption style and the model's own tokenizer."""
    from recaption import Recaptioner
    from recaption.config import RecaptionConfig
    from service.jobs.recaptioning import recaption_target

    target = recaption_target(model.config, model.tokenizer)
    recaptioner = Recaptioner(RecaptionConfig(backend="rules", mode="on"))
    return lambda prompt: recaptioner.recaption(prompt, target).prompt


def _model_dir(path: Path | None, flag: str = "--model") -> Path:
    if path is None:
        from pipeline.toy.preset import WEIGHTS

        path = WEIGHTS
    if not (path / "model_index.json").is_file():
        raise UsageError(f"{flag} {path}: not a diffusers model directory")
    return path


def run_train(args: argparse.Namespace) -> int:
    if args.out_dir.exists() and not args.out_dir.is_dir():
        raise UsageError(f"{args.out_dir} exists and is not a directory")
    quiet_libraries()
    import dataclasses
    import sys

    import torch

    from pipeline.toy.train import TrainSettings, train

    torch.set_num_threads(1)
    settings = TrainSettings.quick() if args.quick else TrainSettings()
    settings = dataclasses.replace(settings, seed=args.seed)
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    if args.from_model is not None:
        from pipeline.toy.train import seed_from_model

        seed_from_model(
            _model_dir(args.from_model, "--from-model"), args.out_dir, settings, log=log
        )
    train(args.out_dir, settings, log=log)
    return EXIT_OK


def run_eval(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise UsageError(f"--n must be 1 or more, got {args.n}")
    if args.seconds is not None and not 1 <= args.seconds <= 3600:
        raise UsageError(f"--seconds must be from 1 to 3600, got {args.seconds:g}")
    if args.jobs < 1:
        raise UsageError(f"--jobs must be 1 or more, got {args.jobs}")
    args.model = _model_dir(args.model)
    if args.seconds is not None:
        return _run_long_eval(args)
    quiet_libraries()
    import sys

    import torch

    from pipeline.toy.evaluate import evaluate, load_toy

    torch.set_num_threads(1)

    def progress(done: int, total: int) -> None:
        print(f"\reval {done}/{total}", end="" if done < total else "\n", file=sys.stderr)

    model = load_toy(args.model)
    result = evaluate(
        model,
        _rules_recaption(model),
        n=args.n,
        seed=args.seed,
        steps=args.steps,
        progress=progress,
    )
    print(result.table())
    print(json.dumps(result.as_json()))
    return EXIT_OK


def run_sheet(args: argparse.Namespace) -> int:
    if args.out.suffix.lower() != ".png":
        raise UsageError(f"{args.out} must end in .png")
    if args.seconds is not None and not 1 <= args.seconds <= 3600:
        raise UsageError(f"--seconds must be from 1 to 3600, got {args.seconds:g}")
    if not 0 < args.every:
        raise UsageError(f"--every must be above 0, got {args.every:g}")
    model_dir = _model_dir(args.model)
    quiet_libraries()
    import torch

    from pipeline.toy.evaluate import load_toy
    from pipeline.toy.sheet import spritesheet

    torch.set_num_threads(1)
    model = load_toy(model_dir)
    spritesheet(
        model,
        args.prompts,
        _rules_recaption(model),
        args.out,
        seed=args.seed,
        seconds=args.seconds,
        every=args.every,
    )
    print(args.out)
    return EXIT_OK


_scorer: dict = {}


def _start_scorer(model_dir: Path, seconds: float, seed: int, steps: int) -> None:
    """Load the model once in this process (each of --jobs runs this first)."""
    quiet_libraries()
    import torch

    from pipeline.toy.evaluate import load_toy

    torch.set_num_threads(1)
    model = load_toy(model_dir)
    _scorer.update(
        model=model, recaption=_rules_recaption(model), seconds=seconds, seed=seed, steps=steps
    )


def _score(index: int) -> dict:
    from pipeline.toy.evaluate import score_long

    return score_long(
        _scorer["model"],
        _scorer["recaption"],
        index,
        seconds=_scorer["seconds"],
        seed=_scorer["seed"],
        steps=_scorer["steps"],
    )


def _run_long_eval(args: argparse.Namespace) -> int:
    import sys

    from pipeline.toy.evaluate import evaluate_long

    def progress(done: int, total: int) -> None:
        print(f"\reval {done}/{total}", end="" if done < total else "\n", file=sys.stderr)

    start = (args.model, args.seconds, args.seed, args.steps)
    if args.jobs == 1:
        _start_scorer(*start)
        result = evaluate_long(_score, n=args.n, progress=progress)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(
            args.jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_scorer,
            initargs=start,
        ) as pool:
            result = evaluate_long(
                _score, n=args.n, progress=progress, map_=lambda f, xs: pool.map(f, xs)
            )
    print(result.table())
    print(json.dumps(result.as_json()))
    return EXIT_OK
