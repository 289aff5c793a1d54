"""Decisions about a swap file, made before anything runs: pure reads and tables.

How to allocate depends on the filesystem (data, not scattered ifs); an existing file is
judged by its swap signature and its blocks, not by its name.
"""
import os

from cidx_sysprep import environment

FALLOCATE = "fallocate"   # fast, and swapon accepts it
NOCOW = "nocow"           # btrfs: an empty file made no-copy-on-write, then fallocate
ZERO_FILL = "zero-fill"   # dd from /dev/zero: where fallocate gives unwritten extents
REFUSE = "refuse"         # the kernel cannot swap to a file here

ALLOCATION = {
    "ext4": FALLOCATE, "xfs": FALLOCATE,
    "btrfs": NOCOW,
    "ext2": ZERO_FILL, "ext3": ZERO_FILL, "f2fs": ZERO_FILL, "vfat": ZERO_FILL,
    "zfs": REFUSE, "tmpfs": REFUSE, "ramfs": REFUSE, "overlay": REFUSE, "aufs": REFUSE,
    "squashfs": REFUSE, "nfs": REFUSE, "nfs4": REFUSE, "cifs": REFUSE, "smb3": REFUSE,
    "9p": REFUSE, "virtiofs": REFUSE, "ceph": REFUSE, "glusterfs": REFUSE,
}

# Minimum free space left behind after the swap file is made: 5% of the filesystem,
# at most 1 GiB, so a server on a small disk keeps room for its logs and databases.
RESERVE_FRACTION = 0.05
RESERVE_CAP = 1 << 30

# What an existing file at the swap path is.
ABSENT = "absent"
VALID = "valid"            # swap signature, right size, no holes, mode 0600
WRONG_MODE = "wrong-mode"  # valid but readable by others: chmod, then reuse
STALE = "stale"            # swap space we may recreate: wrong size, holes, or empty
NOT_SWAP = "not-swap"      # something else (data?): never touched

_SIGNATURES = (b"SWAPSPACE2", b"SWAP-SPACE")

# What to do about the swap file, when no swap is active.
REFUSE_FILESYSTEM = "refuse-filesystem"
REFUSE_NOT_SWAP = "refuse-not-swap"
REFUSE_SPACE = "refuse-space"
REUSE = "reuse"
CREATE = "create"


def allocation_method(fstype):
    if fstype.startswith("fuse"):
        return REFUSE
    return ALLOCATION.get(fstype, ZERO_FILL)  # unknown: the slow way that always works


def has_swap_signature(path):
    page = os.sysconf("SC_PAGE_SIZE")
    with open(path, "rb") as f:
        f.seek(page - 10)
        return f.read(10) in _SIGNATURES


def inspect(path, size):
    """Judge the file at `path` against the wanted `size` in bytes."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return ABSENT
    if not os.path.isfile(path) or os.path.islink(path):
        return NOT_SWAP
    if st.st_size == 0:
        return STALE
    if not has_swap_signature(path):
        return NOT_SWAP
    if st.st_size != size or st.st_blocks * 512 < st.st_size:
        return STALE
    return VALID if st.st_mode & 0o777 == 0o600 else WRONG_MODE


def space_needed(size, total):
    """Free bytes needed to create a `size` swap file on a filesystem of `total` bytes."""
    return size + min(int(total * RESERVE_FRACTION), RESERVE_CAP)


def zero_fill_argv(path, size):
    """dd arguments writing exactly `size` bytes (SWAP_SIZE is a whole number of KiB)."""
    block = 1 << 20 if size % (1 << 20) == 0 else 1 << 10
    return ["dd", "if=/dev/zero", f"of={path}", f"bs={block // 1024}K", f"count={size // block}",
            "status=none"]


class Decision:
    """What to do with the swap file and the facts that led there (for logs and plans)."""
    __slots__ = ("action", "method", "existing", "fstype", "mount_point", "needed", "free")

    def __init__(self, action, method, existing, fstype, mount_point, needed=0, free=0):
        self.action = action
        self.method = method
        self.existing = existing
        self.fstype = fstype
        self.mount_point = mount_point
        self.needed = needed
        self.free = free

    def shortfall(self):
        """'needs N MiB free on /mnt; M MiB are' (N rounded up, so N > M always reads true)."""
        return (f"needs {-(-self.needed >> 20)} MiB free on {self.mount_point} (the file and a "
                f"reserve); {self.free >> 20} MiB are")


def decide(path, size, paths):
    """Probe the swap file's filesystem, the file itself and the free space, then decide."""
    directory = os.path.dirname(path) or "/"
    fstype, mount_point = environment.filesystem_of(directory, paths)
    method = allocation_method(fstype)
    if method == REFUSE:
        return Decision(REFUSE_FILESYSTEM, method, None, fstype, mount_point)
    existing = inspect(path, size)
    if existing == NOT_SWAP:
        return Decision(REFUSE_NOT_SWAP, method, existing, fstype, mount_point)
    if existing in (VALID, WRONG_MODE):
        return Decision(REUSE, method, existing, fstype, mount_point)
    free, total = environment.disk_space(directory)
    if existing == STALE:  # its blocks come back when it is removed
        free += os.stat(path).st_blocks * 512
    needed = space_needed(size, total)
    action = CREATE if free >= needed else REFUSE_SPACE
    return Decision(action, method, existing, fstype, mount_point, needed, free)
