"""What every benchmark command reports, so `manage.py bench` can print one table for all of them."""

from contextlib import contextmanager
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections


@dataclass
class Figure:
    name: str
    target: str
    measured: str
    # Share of the budget used: measured / target for times, target / measured for "at least" targets.
    # Below 1 meets the target; None where no target is set.
    ratio: float | None = None

    @property
    def verdict(self) -> str:
        if self.ratio is None:
            return ""
        return "ok" if self.ratio <= 1 else "MISSED"


class FiguresMixin:
    """Benchmark commands append a Figure per target they measure."""

    def figure(self, name: str, target: str, measured: str, ratio: float | None = None) -> None:
        if not hasattr(self, "figures"):
            self.figures = []
        self.figures.append(Figure(name, target, measured, ratio))


class QueryCounter:
    """Counts the statements a block runs through a connection.

    Django's CaptureQueriesContext reads the length of a log capped at 9,000 entries: once a long
    benchmark run has filled it, every block seems to run no query at all.
    """

    def __init__(self):
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def counting_queries(using=None):
    counter = QueryCounter()
    with connections[using or DEFAULT_DB_ALIAS].execute_wrapper(counter):
        yield counter
