"""A fake host in a temporary tree: every path the code reads or writes lands in it."""
import logging
import os

import pytest

from cidx_sysprep.config import Config
from cidx_sysprep.paths import Paths
from cidx_sysprep.runner import Runner

SWAPS_HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
FSTAB = "# /etc/fstab: static file system information.\nUUID=abcd / ext4 errors=remount-ro 0 1\n"


def swap_file(path, size=64 << 10, mode=0o600, signature=b"SWAPSPACE2", sparse=False):
    """A file laid out as mkswap leaves it: the signature in the last 10 bytes of page 0.

    Written through (every block allocated) unless `sparse`: then only the signature is.
    """
    with open(path, "wb") as f:
        if sparse:
            f.truncate(size)
        else:
            f.write(bytes(size))
        f.seek(os.sysconf("SC_PAGE_SIZE") - 10)
        f.write(signature)
    os.chmod(path, mode)
    return str(path)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


@pytest.fixture
def paths(tmp_path):
    """A host with overcommit 0, no swap, an ext4 root and a two-line fstab."""
    p = Paths(root=str(tmp_path))
    write(p.overcommit, "0\n")
    write(p.swaps, SWAPS_HEADER)
    write(p.mountinfo, f"22 1 254:0 / {tmp_path} rw,relatime shared:1 - ext4 /dev/vda rw\n")
    write(p.fstab, FSTAB)
    os.makedirs(p.sysctl_dirs[0])
    os.makedirs(os.path.join(str(tmp_path), "var/lib"), exist_ok=True)
    return p


@pytest.fixture
def config(paths):
    return Config(swap_file=paths.at("/swapfile"))


@pytest.fixture
def sudo_runner():
    """A runner that believes it is not root, so commands carry `sudo` as in the story."""
    return Runner(as_root=False)


@pytest.fixture
def root_runner():
    return Runner(as_root=True)


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG, logger="cidx_sysprep")
    return caplog


def records(caplog, code=None):
    """(level name, message) of the captured cidx_sysprep records, optionally one code's."""
    return [(r.levelname, r.getMessage()) for r in caplog.records
            if r.name.startswith("cidx_sysprep") and (code is None or code in r.getMessage())]
