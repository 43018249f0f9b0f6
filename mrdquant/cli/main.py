"""The ``mrdquant`` command line.

One subcommand per stage of the data flow; each lives in its own module of this package
and adds itself through a ``register(app)`` function. Errors a user can fix
(:class:`~mrdquant.errors.MrdquantError`) print one line on stderr and exit with code 2;
anything else is a bug and shows its traceback (exit 1).
"""

from __future__ import annotations

import importlib
import sys
from typing import Optional

import typer

from .._version import __version__
from ..errors import MrdquantError

#: modules of :mod:`mrdquant.cli` that each define ``register(app)``
SUBCOMMAND_MODULES = (
    "demo",
    "run",
    "fcs",
    "gate",
    "simulate",
    "qpcr",
    "calls",
    "outcomes",
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


def main(argv: Optional[list[str]] = None) -> int:
    """Run the CLI in-process and return its exit code (used by tests)."""
    try:
        # with standalone_mode=False click returns the code of a typer.Exit instead of raising
        rv = app(args=argv, prog_name="mrdquant", standalone_mode=False)
    except MrdquantError as exc:
        typer.echo(f"mrdquant: error: {exc}", err=True)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:  # click usage errors
        return int(exc.code or 0)
    except Exception as exc:
        # click's usage errors (typer may vendor click, so match by behaviour, not class)
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            return exc.exit_code
        raise
    return rv if isinstance(rv, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
