"""Build step only (metadata is in pyproject.toml): ship configs/ and models/ in the wheel.

configs/default.toml and models/default.json stay at the repository's top level for the
people who read it; this copies them into ``linkage/_shipped/`` of the built package so a
non-editable install (a wheel) runs with no options.  The list of files is
``linkage.shipped.SHIPPED_FILES``'s, repeated here because the build cannot import the
package it is building.
"""

from pathlib import Path
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED_FILES = (("configs", "default.toml"), ("models", "default.json"))


class BuildWithShippedDefaults(build_py):
    def run(self) -> None:
        super().run()
        root = Path(__file__).resolve().parent
        for folder, name in SHIPPED_FILES:
            target = Path(self.build_lib) / "linkage" / "_shipped" / folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / folder / name, target)


setup(cmdclass={"build_py": BuildWithShippedDefaults})
