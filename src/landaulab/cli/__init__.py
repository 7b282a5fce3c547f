"""Command-line interface: ``landaulab demo | sweep | status | analyze | ...``.

Each command lives in its own module of this package and attaches itself to the shared
:data:`~landaulab.cli.app.app`. A user error (:class:`~landaulab.errors.LandaulabError`)
ends in one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

from landaulab.cli.app import app
from landaulab.errors import LandaulabError

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in {"app"} and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (2 for user errors)."""
    try:
        app(args=argv, prog_name="landaulab", standalone_mode=False)
    except LandaulabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:  # typer/click exits (--help, usage errors)
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    except Exception as exc:
        # Usage errors of the (possibly vendored) click behind typer: one line, status 2.
        if type(exc).__name__ == "Abort":
            print("aborted", file=sys.stderr)
            return 130
        format_message = getattr(exc, "format_message", None)
        if callable(format_message) and hasattr(exc, "exit_code"):
            print(f"error: {format_message()}", file=sys.stderr)
            return 2
        raise
    return 0


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


__all__ = ["app", "entry", "main"]
