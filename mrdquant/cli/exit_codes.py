"""Exit codes of every ``mrdquant`` command, and the one way a command leaves with them.

========  ==================================================================================
code      meaning
========  ==================================================================================
0         every input succeeded
1         some inputs failed: the batch finished for the others, each failure was reported
2         usage error, invalid input or parameter, or a path that cannot be read or
          written: one line ``mrdquant: error: <path or option>: <what is wrong>`` on
          stderr, no traceback
========  ==================================================================================

A command never prints its own fatal errors: it raises a
:class:`~mrdquant.errors.MrdquantError` (or lets an ``OSError`` from reading or writing a
file through) and :func:`mrdquant.cli.main.main` turns it into the line and code 2. A
batch command reports each failed input itself and ends with :func:`exit_if_failed`.
"""

from __future__ import annotations

import typer

__all__ = ["OK", "SOME_INPUTS_FAILED", "USAGE_OR_PATH_ERROR", "exit_if_failed", "os_error_message"]

OK = 0
SOME_INPUTS_FAILED = 1
USAGE_OR_PATH_ERROR = 2


def exit_if_failed(failed: int | list | tuple) -> None:
    """End a batch command with code 1 when ``failed`` (a count or a list) is non-empty."""
    n = failed if isinstance(failed, int) else len(failed)
    if n:
        raise typer.Exit(code=SOME_INPUTS_FAILED)


def os_error_message(exc: OSError) -> str:
    """``<path>: <reason>`` for an ``OSError`` raised while reading or writing a file.

    The path is the destination of a failed rename (``filename2``) when there is one,
    since the source is a temporary file of :func:`mrdquant.io.store.atomic_path`.
    """
    path = exc.filename2 if getattr(exc, "filename2", None) else exc.filename
    reason = exc.strerror or str(exc)
    if path is None:
        return reason
    return f"{path}: {reason}"
