"""`openreel moderation eval`: measure the configured moderation on a labelled set of prompts."""

from __future__ import annotations

import argparse
from pathlib import Path

from service.cli.common import EXIT_FAILURE, EXIT_OK, UsageError, settings_or_usage_error

MIN_RECALL = 0.95
MAX_FALSE_POSITIVES = 0.05


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "moderation",
        help="measure moderation on a labelled set of prompts",
        description="Tools for the moderation settings.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    evaluate = actions.add_parser(
        "eval",
        help="recall and false positives per category, language and disguise",
        description="Check every prompt of a labelled set with the configured moderation (as "
        "the prompt stage does) and print recall and precision per category, recall and "
        "false positives per language and disguise. Exits 0 when every category and language "
        f"has recall >= {MIN_RECALL:.0%} and false positives <= {MAX_FALSE_POSITIVES:.0%}, "
        "1 when one does not, 2 on bad input.",
    )
    evaluate.add_argument(
        "--file",
        type=Path,
        help="tab-separated set: categories, language, disguise, text, with that header "
        "(default: the project's own set, service/moderation/labelled_prompts.tsv)",
    )
    evaluate.add_argument("--config", type=Path, help="YAML config (default: built-in defaults)")
    evaluate.add_argument(
        "--show", action="store_true", help="also list every missed prompt and false positive"
    )
    evaluate.set_defaults(run=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    from service.moderation import Moderator
    from service.moderation.defaults import CATEGORIES
    from service.moderation.evaluation import (
        DEFAULT_SET,
        EvalSetError,
        evaluate,
        format_report,
        load_cases,
    )

    settings = settings_or_usage_error(args.config)
    try:
        cases = load_cases(args.file or DEFAULT_SET, CATEGORIES)
    except EvalSetError as exc:
        raise UsageError(str(exc)) from None
    moderator = Moderator(settings.moderation, cache_dir=settings.cache_dir)
    report = evaluate(cases, lambda text: moderator.check_text(text, "prompt").categories)
    print(format_report(report, show_cases=args.show))
    return EXIT_OK if report.meets(MIN_RECALL, MAX_FALSE_POSITIVES) else EXIT_FAILURE
