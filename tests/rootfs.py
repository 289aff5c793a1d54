"""The Debian 12 root filesystem shared by the packaging chroot tests and the VM suite.

Built once with mmdebstrap (65-100 s) and reused; each suite copies it (cp --reflink
where it can), so nothing here ever touches the development machine's system. It is the
same for every checkout, so it lives in the user's cache (~/.cache/cidx-sysprep), where
CI's fresh clones find it too; the checkout's own .cache/ keeps the VM work directories.
The directory's name carries a digest of the package list, so changing PACKAGES builds
a new one instead of reusing a stale tree.
"""
import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("CIDX_SYSPREP_CACHE", REPO / ".cache"))
ROOTFS_CACHE = Path(os.environ.get("CIDX_SYSPREP_ROOTFS_CACHE",
                                   Path.home() / ".cache" / "cidx-sysprep"))

# What a minimal CIDX server needs to boot and run the auto-updater: a kernel and
# systemd to boot, python3 and the venv module for the server, git for the checkout,
# util-linux/procps/kmod for swap and sysctl, apt for the package install, and rpm
# for the RPM's scriptlets.
PACKAGES = (
    "linux-image-amd64", "systemd-sysv", "udev", "kmod", "ifupdown",
    "python3", "python3-venv", "python3-setuptools", "procps", "util-linux",
    "e2fsprogs", "git", "ca-certificates", "rpm",
)
ROOTFS = ROOTFS_CACHE / ("bookworm-" + hashlib.sha256(" ".join(PACKAGES).encode()).hexdigest()[:12])


def base_rootfs() -> Path:
    """Return the cached rootfs directory, building it first when missing."""
    ROOTFS_CACHE.mkdir(parents=True, exist_ok=True)
    with open(ROOTFS_CACHE / ".rootfs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two suites may ask at once
        if not ROOTFS.is_dir():
            partial = ROOTFS.with_name(ROOTFS.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)  # an interrupted build
            subprocess.run(
                ["mmdebstrap", "--quiet", "--variant=apt", "--format=directory",
                 "--include=" + ",".join(PACKAGES), "bookworm", str(partial)],
                check=True,
            )
            partial.rename(ROOTFS)
    return ROOTFS
