"""Packaging glue for the one thing pyproject.toml cannot say.

Everything about the package is declared in pyproject.toml. The top-level presets/ folder
ships inside the wheel as the data package `vsr.presets_data` (pyproject's package-dir maps
it; its package-data lists the files), but `[tool.setuptools.packages.find]` only finds
folders under vsr/ and ignores package-dir (pypa/setuptools#5145), and pyproject cannot list
a package beside `find`. So this adds that one package after pyproject.toml has been read.
"""

from setuptools import setup
from setuptools.dist import Distribution

PRESETS_PACKAGE = "vsr.presets_data"


class _WithPresets(Distribution):
    def parse_config_files(self, *args, **kwargs):
        super().parse_config_files(*args, **kwargs)  # applies pyproject.toml
        if PRESETS_PACKAGE not in self.packages:
            self.packages = [*self.packages, PRESETS_PACKAGE]


setup(distclass=_WithPresets)
