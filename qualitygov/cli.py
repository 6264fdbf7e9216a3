"""The ``qualitygov`` command: the platform's computations for scripts, with JSON output.

``qualitygov check-id CODE``, ``qualitygov seed-demo``, ``qualitygov import`` and every other
Django management command (hyphens and underscores are interchangeable).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qualitygov.settings")
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = {"import": "import_data"}.get(argv[1], argv[1].replace("-", "_"))
    argv[0] = "qualitygov"
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
