"""Build script for cidx-sysprep: the .deb (stdeb) and the .rpm (rpm/cidx-sysprep.spec)
both install through it, so the file list lives here once."""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent


def read_version() -> str:
    # Read, not import: the build must not execute the package (or need its imports).
    text = (HERE / "cidx_sysprep" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.MULTILINE)
    if match is None:
        raise RuntimeError("cidx_sysprep/__init__.py defines no __version__")
    return match.group(1)


def read_long_description() -> str:
    readme = HERE / "README.md"
    if readme.exists():
        return readme.read_text(encoding="utf-8")
    return ("Applies vm.overcommit_memory = 1 and provisions a swap file, so that\n"
            "CIDX servers stop failing fork() with ENOMEM.\n")


def doc_files() -> list:
    # cidx-sysprep(8) and the tool's messages point to the error-code table here.
    return ["docs/error-codes.md"] + (["README.md"] if (HERE / "README.md").exists() else [])


setup(
    name="cidx-sysprep",
    version=read_version(),
    description="Prepare a CIDX server's memory settings: overcommit and swap",
    long_description=read_long_description(),
    long_description_content_type="text/markdown",
    url="https://github.com/cidx/cidx-sysprep",
    license="MIT",
    maintainer="CIDX maintainers",
    maintainer_email="cidx-maintainers@example.org",
    python_requires=">=3.9",
    packages=find_packages(include=["cidx_sysprep*"]),
    # A launcher script rather than a console_scripts entry point: see bin/cidx-sysprep.
    scripts=["bin/cidx-sysprep"],
    # Absolute /etc paths: dpkg marks them conffiles, the spec marks them %config.
    data_files=[
        ("/etc/sysctl.d", ["conf/99-cidx-memory.conf"]),
        ("/etc", ["conf/cidx-sysprep.conf"]),
        ("share/man/man8", ["docs/cidx-sysprep.8"]),
        ("share/doc/cidx-sysprep", doc_files()),
    ],
    classifiers=[
        "Environment :: Console",
        "Intended Audience :: System Administrators",
        "License :: OSI Approved :: MIT License",
        "Operating System :: POSIX :: Linux",
        "Programming Language :: Python :: 3",
        "Topic :: System :: Systems Administration",
    ],
)
