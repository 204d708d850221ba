"""The command line: parse, call the library, render, exit. ``perfscore.cli:main`` is the
console entry point."""

from .app import main

__all__ = ["main"]
