"""``python -m mrdquant`` runs the command line."""

from .cli.main import run

run()
