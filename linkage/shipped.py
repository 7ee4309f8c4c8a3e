"""Where the shipped default config, model and example live, in a wheel and in a checkout.

Why two places: configs/ and models/ stay at the top of the repository for the people who
read it, and setup.py's build step copies them into ``linkage/_shipped/`` of every wheel
(never by hand), so an installed package finds them without the checkout.  A checkout or an
editable install has no ``_shipped`` folder and reads the top-level files directly.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SHIPPED_DIR = PACKAGE_DIR / "_shipped"
CHECKOUT_ROOT = PACKAGE_DIR.parent

# (folder under the repository root, file) of every file the build step ships.
SHIPPED_FILES: tuple[tuple[str, str], ...] = (
    ("configs", "default.toml"),
    ("models", "default.json"),
)


def _shipped(folder: str, name: str) -> Path:
    """The wheel's copy when there is one, else the checkout's file."""
    packaged = SHIPPED_DIR / folder / name
    return packaged if packaged.is_file() else CHECKOUT_ROOT / folder / name


def default_config_path() -> Path:
    """configs/default.toml as shipped with this installation."""
    return _shipped("configs", "default.toml")


def default_model_path() -> Path:
    """models/default.json as shipped with this installation."""
    return _shipped("models", "default.json")


def example_input_path() -> Path:
    """The bundled example export (package data, present in every install)."""
    return PACKAGE_DIR / "data" / "example" / "archives.csv"
