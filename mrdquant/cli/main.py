"""The ``mrdquant`` command line.

One subcommand per stage of the data flow; each lives in its own module of this package
and adds itself through a ``register(app)`` function. Exit codes are those of
:mod:`mrdquant.cli.exit_codes` for every command: errors a user can fix
(:class:`~mrdquant.errors.MrdquantError`, and an ``OSError`` from a path that cannot be
read or written) print one line on stderr and exit with code 2; a batch with failed inputs
exits 1; anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from typing import Optional

import typer

from .._version import __version__
from ..errors import MrdquantError
from .exit_codes import OK, SOME_INPUTS_FAILED, USAGE_OR_PATH_ERROR, exit_if_failed, os_error_message

__all__ = ["app", "main", "run", "OK", "SOME_INPUTS_FAILED", "USAGE_OR_PATH_ERROR", "exit_if_failed"]

#: modules of :mod:`mrdquant.cli` that each define ``register(app)``
SUBCOMMAND_MODULES = (
    "demo",
    "run",
    "fcs",
    "gate",
    "flow",
    "simulate",
    "qpcr",
    "calls",
    "outcomes",
    "reference",
    "report",
)

app = typer.Typer(
    name="mrdquant",
    help="Minimal residual disease quantification after allogeneic stem cell transplantation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"mrdquant {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(
        None, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Minimal residual disease quantification after allogeneic stem cell transplantation."""


for _name in SUBCOMMAND_MODULES:
    importlib.import_module(f"{__package__}._{_name}").register(app)


def _flags_without_type(command) -> None:
    """Show flags as flags in ``--help``: no ``<bool>`` type column, here and in subcommands.

    Typer prints a type for every parameter; a flag takes no value, so its type is
    noise. Applied to the built command tree, so commands added later get it too.
    """
    for param in command.params:
        if getattr(param, "is_flag", False):
            param.metavar = ""
    get_help_option = command.get_help_option

    def _help_option(ctx):
        option = get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = _help_option
    for sub in getattr(command, "commands", {}).values():
        _flags_without_type(sub)


_COMMAND = None


def _command():
    global _COMMAND
    if _COMMAND is None:
        _COMMAND = typer.main.get_command(app)
        _flags_without_type(_COMMAND)
    return _COMMAND


def main(argv: Optional[list[str]] = None) -> int:
    """Run the CLI in-process and return its exit code (used by tests).

    Warnings raised while a command runs are collected and printed once each, as
    ``mrdquant: warning: <message>`` lines, when it ends normally or with failed inputs;
    when it stops with an error only the error line is printed (library warnings that
    led up to it, e.g. from pandas, would only bury it).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        code, error = _invoke(argv)
    if error is None:
        seen = set()
        for w in caught:
            text = " ".join(str(w.message).split())
            if text not in seen:
                seen.add(text)
                typer.echo(f"mrdquant: warning: {text}", err=True)
    else:
        typer.echo(f"mrdquant: error: {error}", err=True)
    return code


def _invoke(argv: Optional[list[str]]) -> tuple[int, Optional[str]]:
    """(exit code, one-line error message or None)."""
    try:
        # with standalone_mode=False click returns the code of a typer.Exit instead of raising
        rv = _command().main(args=argv, prog_name="mrdquant", standalone_mode=False)
    except MrdquantError as exc:
        return USAGE_OR_PATH_ERROR, " ".join(str(exc).split("\n"))
    except OSError as exc:  # an unreadable input or unwritable output path
        return USAGE_OR_PATH_ERROR, os_error_message(exc)
    except typer.Exit as exc:
        return exc.exit_code, None
    except SystemExit as exc:  # click usage errors
        return int(exc.code or 0), None
    except Exception as exc:
        # click's usage errors (typer may vendor click, so match by behaviour, not class)
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            return exc.exit_code, None
        raise
    return (rv if isinstance(rv, int) else OK), None


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
