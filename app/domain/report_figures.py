"""Anonymised figures for the governors' report (rendered by app.pdf.governors)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain.policy import describe_hours


@dataclass(frozen=True)
class GovernorsReport:
    """Anonymised figures for a period: no names, no references."""

    start: date
    end: date
    total: int
    open: int
    closed: int
    by_standard: tuple[tuple[str, int], ...]
    by_platform: tuple[tuple[str, int], ...]
    by_month: tuple[tuple[str, int], ...]
    by_outcome: tuple[tuple[str, int], ...]
    removals: int
    median_hours_to_removal: float | None

    @property
    def median_text(self) -> str:
        if self.median_hours_to_removal is None:
            return "No post was removed in this period"
        return describe_hours(self.median_hours_to_removal)
