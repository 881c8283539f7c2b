"""Packaging glue that pyproject.toml cannot express on its own.

``resources/`` stays the top-level source folder; installed (wheel, frozen app) it lives inside the
package as ``nexa_desktop/resources`` so ``nexa_desktop.paths.resources_dir()`` finds it anywhere.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["nexa_desktop*", "nexa_cloud*"]), "nexa_desktop.resources"],
    package_dir={"nexa_desktop.resources": "resources"},
)
