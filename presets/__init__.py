"""Data only: the bundled presets, installed as the package `vsr.presets_data` so that
`vsr.presets.presets_dir()` finds them with importlib.resources. See README.md."""
