"""Errors a user can cause and fix. The CLI prints them as one line and exits non-zero;
anything else is a bug in vsr and keeps its traceback.

An error carries a `hint`: how to fix it, in the words of the settings, not of any one
interface. A setting is written `{name}` or `{name=value}` (`{overwrite=True}`,
`{device=cpu}`, `{codec}`); `str(error)` words them as the Python API's keyword arguments
(`overwrite=True`), and vsr.commands words them as the command line's flags
(`--overwrite`) through `worded`. So the library never speaks in flags.
"""

import re
from collections.abc import Callable

SETTING = re.compile(r"\{(\w+)(?:=([^{}]*))?\}")
"""A setting named in a hint: {name} or {name=value}."""

API_NAMES = {"weights": "model"}
"""Settings whose Python keyword differs from the setting's name (a weights file is given
to the API as `model=PATH`)."""


def api_words(name: str, value: str | None) -> str:
    """A setting as the Python API spells it: `name` or `name=value`."""
    name = API_NAMES.get(name, name)
    return name if value is None else f"{name}={value}"


class VsrError(Exception):
    """Base of every error meant for the user. `exit_code` is what the CLI exits with;
    `hint` says how to fix it (see the module docstring)."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)  # one argument: OSError reads two as (errno, strerror)
        self.message, self.hint = message, hint

    def worded(self, words: Callable[[str, str | None], str] = api_words) -> str:
        """The message and its hint, with each setting in the hint spelt by `words(name, value)`."""
        if not self.hint:
            return self.message
        return f"{self.message}; {SETTING.sub(lambda m: words(m.group(1), m.group(2)), self.hint)}"

    def __str__(self) -> str:
        return self.worded()


class UsageError(VsrError, ValueError):
    """Bad flags or a combination of flags that cannot work together."""

    exit_code = 2


class WeightsError(VsrError, ValueError):
    """A weights file or model name that cannot be loaded (missing, unknown, mismatched)."""


class InputError(VsrError, ValueError):
    """An input file that is missing, unreadable or unusable."""


class OutputError(VsrError, OSError):
    """An output that cannot or must not be written (exists, unwritable directory)."""


class DeviceError(VsrError, RuntimeError):
    """A requested device that is not available."""


class TrainingError(VsrError, RuntimeError):
    """A training run that cannot go on (its loss or gradients stopped being finite)."""


class PrecisionWarning(UserWarning):
    """A setting that works but gives measurably worse pictures (float16 on weights that
    stray from float32). The CLI prints it as one `warning:` line."""


class DownloadError(WeightsError):
    """Known weights that could not be fetched and verified; nothing was cached."""
