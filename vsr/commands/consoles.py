"""rich Consoles for vsr's commands: wrapped to the terminal on a terminal; piped or logged,
never wrapped in mid-line (one message, one line, as long as it is)."""

from rich.console import Console


def make_console(stderr: bool = False, width: int | None = None) -> Console:
    """A Console on stdout (or stderr) that soft-wraps (leaves line breaks to the reader)
    when it is not writing to a terminal. Tables still fit `Console.width` (80 when not a
    terminal, unless $COLUMNS or `width` says otherwise)."""
    console = Console(stderr=stderr, width=width)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, soft_wrap=True, width=width)
