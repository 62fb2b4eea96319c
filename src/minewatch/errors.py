"""Errors every layer may raise; the CLI and the web app turn them into messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class MineWatchError(Exception):
    """Base class of the errors MineWatch reports to its user."""


@dataclass(frozen=True)
class InputProblem:
    """One thing wrong with one cell (or row) of an input file.

    ``row`` and ``column`` are 1-based as a spreadsheet shows them; ``column`` is the header text
    (or the letter when there is no header) and may be ``None`` when the whole row is wrong.
    """

    row: int | None
    column: str | None
    reason: str

    def where(self) -> str:
        parts = []
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts) if parts else "file"


@dataclass
class InputFileError(MineWatchError):
    """A file could not be accepted; lists every problem found, each with its row and column."""

    path: Path | str
    problems: list[InputProblem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.path}: {len(self.problems)} problem(s); nothing was imported"]
        lines += [f"  {self.path}: {p.where()}: {p.reason}" for p in self.problems]
        return "\n".join(lines)


class DatabaseUnavailableError(MineWatchError):
    """The database cannot be reached, is locked by another process, or is gone."""


class NotFoundError(MineWatchError):
    """A record named by the user does not exist."""


class ConfigurationError(MineWatchError):
    """Settings that cannot be used as given."""
