"""Errors a user can cause and fix. The CLI prints them as one line and exits non-zero;
anything else is a bug in vsr and keeps its traceback."""


class VsrError(Exception):
    """Base of every error meant for the user. `exit_code` is what the CLI exits with."""

    exit_code = 1


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


class PrecisionWarning(UserWarning):
    """A setting that works but gives measurably worse pictures (float16 on weights that
    stray from float32). The CLI prints it as one `warning:` line."""


class DownloadError(WeightsError):
    """Known weights that could not be fetched and verified; nothing was cached."""
