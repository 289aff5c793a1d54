"""Shared fixtures: the packages `make packages` built, and throwaway Debian roots.

A throwaway root is a copy of the cached Debian 12 rootfs (tests/rootfs.py) with a
fake /proc made of plain files and fake sysctl/swapon/swapoff in /usr/local/sbin, so
the maintainer scripts run for real in a chroot without touching this machine's
kernel, swap, sysctls or /etc/fstab.
"""
import contextlib
import hashlib
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.rootfs import REPO, base_rootfs

DIST = REPO / "dist"
FAKES = Path(__file__).resolve().parent / "fakes"
CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SWAPS_HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
MOUNTINFO = "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
# What an operator's fstab holds before the package: comments, tabs, a commented-out
# swap line the tool must not mistake for its own, and no other swap.
FSTAB = (
    b"# /etc/fstab: static file system information.\n"
    b"UUID=5e6f7a8b-0000-4000-8000-0123456789ab /  ext4  errors=remount-ro 0 1\n"
    b"/dev/vdb\t/srv\text4\tdefaults,nofail\t0\t2\n"
    b"#/swapfile none swap sw 0 0\n"
    b"tmpfs /tmp tmpfs nosuid,nodev 0 0\n"
)


def version():
    text = (REPO / "cidx_sysprep" / "__init__.py").read_text()
    return re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE).group(1)


@pytest.fixture(scope="session")
def deb():
    path = DIST / f"cidx-sysprep_{version()}-1_all.deb"
    assert path.is_file(), f"{path} is missing: run `make test-packaging` (it builds first)"
    return path


@pytest.fixture(scope="session")
def rpm():
    path = DIST / f"cidx-sysprep-{version()}-1.noarch.rpm"
    assert path.is_file(), f"{path} is missing: run `make test-packaging` (it builds first)"
    return path


def run(*argv, check=True, **kwargs):
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          check=check, **kwargs)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Root:
    """A throwaway Debian 12 root with a fake kernel interface; see the module doc."""

    def __init__(self, path):
        self.path = path

    def __truediv__(self, inside):
        return self.path / inside.lstrip("/")

    def run(self, *argv, timeout=180):
        """Run argv in the chroot as a package manager would: root, noninteractive,
        stdin closed. Returns the CompletedProcess (not checked)."""
        env = {"PATH": CHROOT_PATH, "LC_ALL": "C.UTF-8", "HOME": "/root",
               "DEBIAN_FRONTEND": "noninteractive"}
        result = subprocess.run(["/usr/sbin/chroot", str(self.path), *map(str, argv)],
                                env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=timeout)
        # A real tool was reached instead of a fake (a package manager reset PATH):
        # the run proves nothing, whatever else it printed.
        assert "would act on the host kernel" not in result.stderr, result.stderr
        return result

    def copy_in(self, source):
        target = self / f"/tmp/{source.name}"
        shutil.copy2(source, target)
        return f"/tmp/{source.name}"

    def overcommit(self):
        return (self / "/proc/sys/vm/overcommit_memory").read_text()

    def swaps(self):
        return (self / "/proc/swaps").read_text()

    def commands(self):
        """Calls made to the fake sysctl/swapon/swapoff, oldest first."""
        log = self / "/var/log/fake-commands"
        return log.read_text().splitlines() if log.exists() else []


def _unpack_base(target):
    # The kernel and its modules are for the VM suite; a chroot does not need them.
    skip = ["--exclude=./boot", "--exclude=./usr/lib/modules"]
    packer = subprocess.Popen(["tar", "-C", base_rootfs(), "-cf", "-", *skip, "."],
                              stdout=subprocess.PIPE)
    subprocess.run(["tar", "-C", target, "-xf", "-"], stdin=packer.stdout, check=True)
    assert packer.wait() == 0


def _prepare(root):
    proc = root / "/proc"
    assert not os.path.ismount(proc), "the template root must never have the real /proc"
    (proc / "sys/vm").mkdir(parents=True)
    (proc / "sys/vm/overcommit_memory").write_text("0\n")
    (proc / "swaps").write_text(SWAPS_HEADER)
    (proc / "self").mkdir()
    (proc / "self/mountinfo").write_text(MOUNTINFO)
    for name, major_minor in (("null", (1, 3)), ("zero", (1, 5))):
        node = root / f"/dev/{name}"
        if not node.exists():
            os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(*major_minor))
    for tool in ("sysctl", "swapon", "swapoff"):
        shutil.copy2(FAKES / tool, root / f"/usr/local/sbin/{tool}")
        shutil.copy2(FAKES / "refuse", root / f"/usr/sbin/{tool}")
    (root / "/etc/fstab").write_bytes(FSTAB)
    probe = root.run("sh", "-c", "echo ok >/dev/null && for t in swapon sysctl swapoff; do command -v $t; done")
    assert probe.stdout.split() == ["/usr/local/sbin/swapon", "/usr/local/sbin/sysctl",
                                    "/usr/local/sbin/swapoff"], probe


@pytest.fixture(scope="session")
def template_root(tmp_path_factory):
    path = tmp_path_factory.mktemp("template-root")
    try:
        _unpack_base(path)
        _prepare(Root(path))
        yield path
    finally:
        shutil.rmtree(path)  # ~400 MB: never leave it to pytest's basetemp rotation


@contextlib.contextmanager
def fresh_root(template_root, tmp_path_factory):
    """A copy of the template root (about 1 s), deleted afterwards: it may hold a
    4 GiB swap file."""
    path = tmp_path_factory.mktemp("root") / "root"
    try:
        subprocess.run(["cp", "-a", template_root, path], check=True)
        yield Root(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def root(template_root, tmp_path_factory):
    with fresh_root(template_root, tmp_path_factory) as made:
        yield made
