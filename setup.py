"""Package discovery for the one import package `xsolla_contract` (metadata: pyproject.toml).

The repository root is the package: `toolkit/`, `mocks/` and `spec/` install as
`xsolla_contract.toolkit`, `xsolla_contract.mocks` and `xsolla_contract.spec`.
Every folder under them is found here, so a new module or spec area is packaged
without anyone listing it; the spec's YAML and Markdown files and the mock's page
templates and static files are package data.
"""

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

SUBPACKAGES = ("toolkit", "mocks", "spec")
found = find_namespace_packages(include=[f"{name}{tail}" for name in SUBPACKAGES for tail in ("", ".*")])
packages = ["xsolla_contract", *(f"xsolla_contract.{name}" for name in found)]


class BuildPy(build_py):
    """The root folder is the package: leave this build script out of it."""

    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if not (package == "xsolla_contract" and m[1] == "setup")]


setup(
    packages=packages,
    package_data={
        **{name: ["*.yaml", "*.md"] for name in packages if name.startswith("xsolla_contract.spec")},
        # the mock's pages: templates and static files
        **{name: ["*.html", "*.css", "*.js"] for name in packages if name.startswith("xsolla_contract.mocks.pages")},
    },
    cmdclass={"build_py": BuildPy},
)
