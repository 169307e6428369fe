"""Measure a moderator on a labelled set of prompts: recall and precision per category, recall
and false positives per language and per disguise.

The set is a tab-separated file with a header: `categories` (comma-separated, `-` for a
benign prompt), `language` (en, fr, es, de, it, pt ...), `disguise` (plain, leet, emoji,
confusable ...; lookalike and ordinary for benign prompts) and `text`. The project's own set
ships as `labelled_prompts.tsv` next to this module.

Definitions: a disallowed prompt is caught for its category C when the verdict names C (other
categories may come too); a benign prompt is a false positive when the verdict names anything.
Precision for C: of the prompts the verdict names C for, the share labelled C (or labelled a
category that implies C: `IMPLIES`).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from service.moderation.defaults import IMPLIES

DEFAULT_SET = Path(__file__).with_name("labelled_prompts.tsv")
BENIGN = "-"
COLUMNS = ("categories", "language", "disguise", "text")


class EvalSetError(ValueError):
    """The evaluation file cannot be read as a set of labelled prompts."""


@dataclass(frozen=True)
class Case:
    text: str
    categories: frozenset[str]
    language: str
    disguise: str

    @property
    def benign(self) -> bool:
        return not self.categories


def load_cases(path: Path, known: Iterable[str]) -> list[Case]:
    known = set(known)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalSetError(f"{path}: {exc}") from None
    if not rows or tuple(rows[0]) != COLUMNS:
        header = "\t".join(COLUMNS)
        raise EvalSetError(f"{path}: the first line must be the header {header!r}")
    cases = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(COLUMNS) or not row[3].strip():
            raise EvalSetError(f"{path}:{number}: expected {len(COLUMNS)} tab-separated fields")
        labels = frozenset() if row[0] == BENIGN else frozenset(row[0].split(","))
        unknown = labels - known
        if unknown:
            raise EvalSetError(f"{path}:{number}: unknown category {sorted(unknown)[0]!r}")
        cases.append(Case(row[3], labels, row[1], row[2]))
    if not cases:
        raise EvalSetError(f"{path}: no prompts")
    return cases


@dataclass
class Tally:
    positives: int = 0
    caught: int = 0
    benign: int = 0
    false_positives: int = 0

    @property
    def recall(self) -> float | None:
        return self.caught / self.positives if self.positives else None

    @property
    def false_positive_rate(self) -> float | None:
        return self.false_positives / self.benign if self.benign else None


@dataclass
class Report:
    categories: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    predicted: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    predicted_right: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    languages: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    disguises: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    total: Tally = field(default_factory=Tally)
    misses: list[tuple[Case, list[str]]] = field(default_factory=list)
    false_alarms: list[tuple[Case, list[str]]] = field(default_factory=list)

    def precision(self, category: str) -> float | None:
        predicted = self.predicted[category]
        return self.predicted_right[category] / predicted if predicted else None

    def meets(self, min_recall: float, max_false_positives: float) -> bool:
        groups = [*self.categories.values(), *self.languages.values()]
        return all(
            (t.recall is None or t.recall >= min_recall)
            and (t.false_positive_rate is None or t.false_positive_rate <= max_false_positives)
            for t in groups
        )


def evaluate(cases: Iterable[Case], classify: Callable[[str], list[str]]) -> Report:
    """`classify` gives the categories a text falls in."""
    report = Report()
    for case in cases:
        found = set(classify(case.text))
        for category in found:
            report.predicted[category] += 1
            report.predicted_right[category] += category in case.categories or any(
                category in IMPLIES.get(label, ()) for label in case.categories
            )
        groups = [report.languages[case.language], report.disguises[case.disguise], report.total]
        if case.benign:
            for tally in groups:
                tally.benign += 1
                tally.false_positives += bool(found)
            if found:
                report.false_alarms.append((case, sorted(found)))
            continue
        caught = case.categories <= found
        for category in case.categories:
            report.categories[category].positives += 1
            report.categories[category].caught += category in found
        for tally in groups:
            tally.positives += 1
            tally.caught += caught
        if not caught:
            report.misses.append((case, sorted(found)))
    return report


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def format_report(report: Report, *, show_cases: bool = False) -> str:
    lines = [f"{'category':<26}{'prompts':>8}{'recall':>10}{'precision':>11}"]
    for name, tally in sorted(report.categories.items()):
        lines.append(
            f"{name:<26}{tally.positives:>8}{_percent(tally.recall):>10}"
            f"{_percent(report.precision(name)):>11}"
        )
    for title, groups in (("language", report.languages), ("disguise", report.disguises)):
        lines.append("")
        lines.append(f"{title:<26}{'prompts':>8}{'recall':>10}{'benign':>8}{'false pos.':>12}")
        for name, tally in sorted(groups.items()):
            lines.append(
                f"{name:<26}{tally.positives:>8}{_percent(tally.recall):>10}"
                f"{tally.benign:>8}{_percent(tally.false_positive_rate):>12}"
            )
    total = report.total
    lines.append("")
    lines.append(
        f"all: {total.positives} disallowed, recall {_percent(total.recall)}; "
        f"{total.benign} benign, false positives {_percent(total.false_positive_rate)}"
    )
    if show_cases:
        for case, found in report.misses:
            lines.append(f"missed [{','.join(sorted(case.categories))}] {case.text}  -> {found}")
        for case, found in report.false_alarms:
            lines.append(f"false positive {found} {case.text}")
    return "\n".join(lines)
