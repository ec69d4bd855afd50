"""Progress of a fuzz run: a line per phase and per API group, and a bar on a terminal.

In CI logs (no terminal) every line is printed as it happens and flushed, so a long
phase is never silent. On a terminal a progress bar (rich, which schemathesis
already uses) shows where the current phase stands, below the same lines.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any


class Progress:
    def __init__(self, stream: IO[str] | None = None, bar: bool | None = None):
        self.stream = stream or sys.stdout
        self.bar = self.stream.isatty() if bar is None else bar
        self._rich: Any = None
        self._task: Any = None
        self._started = 0.0
        if self.bar:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._rich = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._rich.start()

    def line(self, text: str = "") -> None:
        if self._rich is not None:
            self._rich.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream, flush=True)

    def start(self, title: str, total: int, unit: str) -> None:
        """A phase begins: its line, and a bar of `total` `unit`s on a terminal."""
        self._started = time.perf_counter()
        self.line(f"{title}")
        if self._rich is not None:
            if self._task is not None:
                self._rich.remove_task(self._task)
            self._task = self._rich.add_task(f"  {title.split(':')[0]} ({unit})", total=total)

    def advance(self, amount: int = 1) -> None:
        if self._rich is not None and self._task is not None:
            self._rich.advance(self._task, amount)

    def elapsed(self) -> float:
        return time.perf_counter() - self._started

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None
