"""The examples that end each sub-command's --help: one format everywhere."""

import argparse
import textwrap

RAW = argparse.RawDescriptionHelpFormatter
"""Keeps the examples' lines as written (argparse would join them into one paragraph)."""


def examples(note: str | None, *commands: tuple[str, str]) -> str:
    """An epilog: an optional note, then "examples:" and each command with what it does."""
    lines = [textwrap.fill(note, 88), ""] if note else []  # the formatter keeps lines as they are
    lines.append("examples:")
    for command, what in commands:
        lines.append(f"  {command}")
        lines.append(f"      {what}")
    return "\n".join(lines)
