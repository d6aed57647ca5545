"""Where outputs go: the one set of rules `vsr upscale` and `vsr image` share (the README's
"Where outputs go" says the same in the user's words).

1. `-o` names a folder when it ends in `/`, is a folder already, or has no suffix
   (`-o renders`); otherwise it names a file, and its suffix says what to write. A suffix
   the command cannot write is an error, never a folder named after it (`-o x.gif`).
2. A folder that does not exist yet is created, with its parents.
3. In a folder, and without `-o` beside the input, each output is NAME_xS.EXT.
4. Several inputs need a folder.
5. An output that is one of the inputs is refused, even with overwrite; so are two
   inputs that would write the same output. Both before any work.
6. An output that exists: with one input, an error (exit 1); in a batch, that input is
   skipped with a notice and the rest go on (a rerun finishes an interrupted batch).
   `overwrite` replaces it in both cases.
7. While a run writes an output, a lock beside it (vsr.output_lock) keeps other vsr runs
   away, and the finished file never replaces one that appeared meanwhile unless
   `overwrite` (vsr.atomic).
"""

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from .errors import OutputError, UsageError


def names_folder(text: "str | os.PathLike") -> bool:
    """Rule 1: whether the output as typed names a folder."""
    text = os.fspath(text)
    return text.endswith(("/", os.sep)) or Path(text).is_dir() or not Path(text).suffix


def check_suffix(path: Path, writable: Iterable[str], what: str) -> None:
    """Rule 1: a file output whose suffix this command cannot write is one line."""
    writable = tuple(writable)
    if path.suffix.lower() not in writable:
        raise UsageError(
            f"cannot write {what} as {path.suffix or 'a file without a suffix'} ({path})",
            hint=f"name the output {', '.join(writable)}, or a folder (ending in /)",
        )


def scaled_name(source: Path, scale: int, suffix: str) -> str:
    """Rule 3: NAME_xS.EXT."""
    return f"{source.stem}_x{scale}{suffix}"


def make_folder(folder: Path) -> None:
    """Rule 2, with the OS's reason when it cannot be made."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot write into {folder}: it is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {folder}: {exc.strerror or exc}") from None


def refuse_clashes(pairs: Sequence[tuple[Path, Path]]) -> None:
    """Rule 5 for (input, output) pairs: no output is an input, no two outputs are one."""
    inputs = {source.resolve(): source for source, _ in pairs}
    seen: dict[Path, Path] = {}
    for source, target in pairs:
        key = target.resolve()
        if key in inputs:
            raise UsageError(f"the output for {source} would overwrite the input {inputs[key]}", hint="name another {output}")
        if key in seen:
            raise UsageError(f"{seen[key]} and {source} would both be written to {target}; rename one or run them apart")
        seen[key] = source
