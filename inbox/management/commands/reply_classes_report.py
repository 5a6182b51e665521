"""Precision and recall of the reply classifier per class on labelled replies, and its cost per message.

manage.py reply_classes_report [--file tests/inbox/replies.txt] [--file tests/inbox/replies_holdout.txt]
"""

import datetime as dt
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inbox.classify import CLASSES, OPT_OUT, classify

DEFAULT_FILES = ["tests/inbox/replies.txt", "tests/inbox/replies_holdout.txt"]
KINDS = dict(CLASSES)


def read_labelled(path: Path) -> list[tuple[str, str, str]]:
    """(language, class, text) per line 'language|class|text'; '#' starts a comment. Bad lines are errors."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("|", 2)
        if len(parts) != 3 or parts[1] not in KINDS or not parts[2].strip():
            raise CommandError(f"{path}:{number}: expected 'language|class|text' with a class of {sorted(KINDS)}.")
        rows.append((parts[0], parts[1], parts[2]))
    return rows


def scores(rows, today: dt.date) -> tuple[dict, list, float]:
    """Per class (precision, recall, support), the misclassified rows, and the mean milliseconds per message."""
    hits, said, wanted, wrong = Counter(), Counter(), Counter(), []
    started = time.perf_counter()
    for language, want, text in rows:
        got = classify(text, today=today).kind
        said[got] += 1
        wanted[want] += 1
        if got == want:
            hits[want] += 1
        else:
            wrong.append((language, want, got, text))
    per_message = (time.perf_counter() - started) * 1000 / max(1, len(rows))
    table = {
        kind: (
            hits[kind] / said[kind] if said[kind] else None,
            hits[kind] / wanted[kind] if wanted[kind] else None,
            wanted[kind],
        )
        for kind in KINDS
    }
    return table, wrong, per_message


class Command(BaseCommand):
    help = "Precision and recall of the reply classifier on labelled replies."

    def add_arguments(self, parser):
        parser.add_argument("--file", action="append", help="A labelled file (repeat); default: the two test sets.")
        parser.add_argument("--show-wrong", action="store_true")

    def handle(self, *args, file, show_wrong, **options):
        for name in file or DEFAULT_FILES:
            path = Path(name) if Path(name).is_absolute() else Path(settings.BASE_DIR) / name
            if not path.exists():
                raise CommandError(f"No such file: {path}")
            rows = read_labelled(path)
            table, wrong, per_message = scores(rows, dt.date(2026, 12, 4))
            right = len(rows) - len(wrong)
            self.stdout.write(
                f"\n{path.name}: {len(rows)} replies, {right / len(rows):.1%} right, {per_message:.3f} ms a message"
            )
            self.stdout.write(f"{'class':16} {'precision':>9} {'recall':>7} {'n':>4}")
            for kind, (precision, recall, support) in table.items():
                shown = [f"{v:.2f}" if v is not None else "-" for v in (precision, recall)]
                flag = "  <- opt-outs first" if kind == OPT_OUT else ""
                self.stdout.write(f"{kind:16} {shown[0]:>9} {shown[1]:>7} {support:>4}{flag}")
            if show_wrong:
                for language, want, got, text in wrong:
                    self.stdout.write(f"  {language} {want} -> {got}: {text}")
