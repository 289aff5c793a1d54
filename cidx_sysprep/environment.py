"""What the host is: a container or not, which filesystem a path lives on, free space,
and which swap areas the kernel has active. Reads only; never forks.
"""
import os

from cidx_sysprep.fstab import unescape


def container(paths):
    """The container manager's name (docker, podman, lxc...) or None on a real host/VM."""
    try:
        with open(paths.container_markers[0]) as f:  # systemd's own answer
            return f.read().strip() or "container"
    except OSError:
        pass
    for marker, name in zip(paths.container_markers[1:], ("docker", "podman")):
        if os.path.exists(marker):
            return name
    return None


def why_sysctl_is_not_ours(paths):
    """Why this system must not set vm.* sysctls, or None.

    vm.overcommit_memory is not namespaced: in a privileged container, writing it would
    change the whole host under every other container; in others /proc/sys is read-only.
    """
    manager = container(paths)
    if manager:
        return f"running in a container ({manager})"
    if proc_sys_read_only(paths):
        return "/proc/sys is read-only"
    return None


def proc_sys_read_only(paths):
    try:
        return bool(os.statvfs(paths.proc_sys).f_flag & os.ST_RDONLY)
    except OSError:
        return True


def read_overcommit(paths):
    """The kernel's effective vm.overcommit_memory, or None when it cannot be read."""
    try:
        with open(paths.overcommit) as f:
            return f.read().strip()
    except OSError:
        return None


def active_swaps(paths):
    """The kernel's active swap areas from /proc/swaps: dicts with path, type, sizes."""
    try:
        with open(paths.swaps) as f:
            rows = f.read().splitlines()[1:]
    except OSError:
        return []
    swaps = []
    for row in rows:
        fields = row.split()
        if len(fields) >= 5:
            swaps.append({"path": unescape(fields[0]), "type": fields[1],
                          "size_bytes": int(fields[2]) * 1024, "used_bytes": int(fields[3]) * 1024,
                          "priority": int(fields[4])})
    return swaps


def filesystem_of(path, paths):
    """(fstype, mount point) of the mount holding `path`, from /proc/self/mountinfo."""
    target = os.path.realpath(path)
    best = ("unknown", "/")
    best_len = -1
    try:
        with open(paths.mountinfo) as f:
            rows = f.read().splitlines()
    except OSError:
        return best
    for row in rows:
        left, sep, right = row.partition(" - ")
        fields = left.split()
        if not sep or len(fields) < 5:
            continue
        mount_point = unescape(fields[4])
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        # Later rows are mounted on top of earlier ones at the same point: >= keeps the last.
        if inside and len(mount_point) >= best_len:
            best, best_len = (right.split()[0], mount_point), len(mount_point)
    return best


def disk_space(directory):
    """(bytes free to non-root users, total bytes) of the filesystem holding `directory`.

    Root's reserved blocks are left out on purpose: they are the host's last resort.
    """
    st = os.statvfs(directory)
    return st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize
