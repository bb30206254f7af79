"""``python -m triage`` runs the command line."""

from .cli import main

main()
