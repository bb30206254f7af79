"""``python -m triage`` and the ``triage`` command start here.

The stop signals are taken over before the command line is imported, so a
Ctrl-C (or SIGTERM) while Python is still loading ends quietly with
128 + the signal, never with an import traceback.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run the ``triage`` command line."""
    from .interrupts import exit_status, install

    install()
    try:
        from .cli import main as command_line
    except KeyboardInterrupt as exc:
        sys.stderr.write("triage: interrupted\n")
        sys.exit(exit_status(exc))
    command_line()


if __name__ == "__main__":
    main()
