"""What every benchmark command reports, so `manage.py bench` can print one table for all of them."""

from dataclasses import dataclass


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
