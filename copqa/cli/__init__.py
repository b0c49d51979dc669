"""The `copqa` command: its parser and handlers (`main`), one module per command group."""

from copqa.cli.main import main

__all__ = ["main"]
