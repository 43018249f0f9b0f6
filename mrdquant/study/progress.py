"""Progress of a long step: a rich bar on a terminal, plain lines in a log.

A plain line is printed per finished item (``flow 3/20 P0001-03.fcs ok``), so a log of an
unattended run shows where it is and what failed.
"""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Progress reporter for one run.

    Parameters
    ----------
    enabled : bool
        False prints nothing.
    stream : text stream, default sys.stderr
        Where to write; a rich bar when it is a terminal, plain lines otherwise.
    """

    def __init__(self, enabled: bool = True, stream: TextIO | None = None):
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.rich = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self._bar = None
        self._task = None
        self._stage = ""
        self._total = 0
        self._done = 0
        self._every = 1

    def start(self, stage: str, total: int, *, every: int = 1) -> None:
        """Begin a step of ``total`` items; plain lines for every ``every``-th item (and the last)."""
        self.finish()
        self._stage, self._total, self._done, self._every = stage, int(total), 0, max(1, int(every))
        if not self.enabled or total == 0:
            return
        if self.rich:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn
            from rich.progress import TimeElapsedColumn, TimeRemainingColumn

            self._bar = RichProgress(
                TextColumn(f"{stage:<6}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TimeRemainingColumn(), TextColumn("{task.description}"),
                console=Console(file=self.stream), transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("", total=total)
        else:
            self.line(f"{stage}: {total} input(s) to process")

    def advance(self, label: str, status: str = "ok") -> None:
        """One item finished (``status`` "ok", "failed", ...)."""
        self._done += 1
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=f"{label} {status}")
        elif status not in ("ok", "done", "hashed") or self._done % self._every == 0 or self._done == self._total:
            self.line(f"{self._stage} {self._done}/{self._total} {label} {status}")

    def line(self, text: str) -> None:
        """A message line (through the bar's console when one is shown)."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream, flush=True)

    def finish(self) -> None:
        """End the current step."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            self._task = None
