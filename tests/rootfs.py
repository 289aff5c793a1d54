"""The Debian 12 root filesystem shared by the packaging chroot tests and the VM suite.

Built once with mmdebstrap (about 100 s) and cached in .cache/; both suites unpack
their own copy, so nothing here ever touches the development machine's system.
"""
import fcntl
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("CIDX_SYSPREP_CACHE", REPO / ".cache"))

# What a minimal CIDX server needs to boot and run the auto-updater: a kernel and
# systemd to boot, python3 and the venv module for the server, git for the checkout,
# util-linux/procps/kmod for swap and sysctl, apt for the package install.
PACKAGES = (
    "linux-image-amd64", "systemd-sysv", "udev", "kmod", "ifupdown",
    "python3", "python3-venv", "python3-setuptools", "procps", "util-linux",
    "e2fsprogs", "git", "ca-certificates", "rpm",
)
TARBALL = CACHE / "bookworm-base.tar"


def base_tarball() -> Path:
    """Return the cached rootfs tarball, building it first when missing."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".rootfs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two suites may ask at once
        if not TARBALL.exists():
            partial = TARBALL.with_suffix(".tar.partial")
            subprocess.run(
                ["mmdebstrap", "--quiet", "--variant=apt",
                 "--include=" + ",".join(PACKAGES), "bookworm", str(partial)],
                check=True,
            )
            partial.rename(TARBALL)
    return TARBALL
