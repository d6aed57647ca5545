"""The command line's words for vsr's settings: the flag of each setting an error's hint
names (vsr.errors), and the one definition of the flags several commands share."""

FLAGS = {
    "output": "-o",
    "overwrite": "--overwrite",
    "model": "--model",
    "weights": "--weights",
    "scale": "--scale",
    "device": "--device",
    "half": "--half",
    "compile": "--compile",
    "batch": "--batch",
    "tile": "--tile",
    "preset": "--preset",
    "codec": "--codec",
    "crf": "--crf",
    "encoder_preset": "--encoder-preset",
    "pix_fmt": "--pix-fmt",
    "source": "--source",
    "window": "--no-window",
    "duration": "--duration",
    "images": "--images",
    "image_dir": "--image-dir",
    "patch": "--patch",
    "init_from": "--init-from",
    "amp": "--amp",
    "frames": "--frames",
}
"""Setting name -> flag. A setting an error names that is missing here is a bug that a
test catches (tests/test_cli.py)."""

VALUE_WORDS = {("compile", "False"): "without --compile", ("window", "False"): "--no-window", ("model", "FILE"): "--weights FILE"}
"""Settings with a value that read better as another phrase on the command line."""


def flag_words(name: str, value: str | None) -> str:
    """A hint's setting (vsr.errors) as the command line spells it."""
    if (name, value) in VALUE_WORDS:
        return VALUE_WORDS[name, value]
    flag = FLAGS[name]
    return flag if value in (None, "True") else f"{flag} {value}"
