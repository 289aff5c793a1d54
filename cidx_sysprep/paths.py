"""Where the host keeps what we read and write.

Production uses the real paths; tests build `Paths(root=tmp)` so every read and write
lands in a temporary tree and the development machine is never touched.
"""
import os

SYSCTL_DROPIN = "/etc/sysctl.d/99-cidx-memory.conf"
CONFIG = "/etc/cidx-sysprep.conf"
STATE = "/var/lib/cidx-sysprep/created"

# systemd-sysctl's directories, highest precedence first (sysctl.d(5)).
SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d",
               "/usr/lib/sysctl.d", "/lib/sysctl.d")
CONTAINER_MARKERS = ("/run/systemd/container", "/.dockerenv", "/run/.containerenv")
# Configurations that make zram swap at every boot: systemd's zram-generator (Fedora's
# default) and Debian's zram-tools.
ZRAM_CONFIGS = ("/etc/systemd/zram-generator.conf", "/run/systemd/zram-generator.conf",
                "/usr/local/lib/systemd/zram-generator.conf",
                "/usr/lib/systemd/zram-generator.conf", "/etc/default/zramswap")


class Paths:
    def __init__(self, root="/"):
        self.root = root
        at = self.at
        self.overcommit = at("/proc/sys/vm/overcommit_memory")
        self.proc_sys = at("/proc/sys")
        self.swaps = at("/proc/swaps")
        self.mountinfo = at("/proc/self/mountinfo")
        self.fstab = at("/etc/fstab")
        self.sysctl_dropin = at(SYSCTL_DROPIN)
        self.sysctl_dirs = tuple(at(d) for d in SYSCTL_DIRS)
        self.sysctl_conf = at("/etc/sysctl.conf")
        self.state = at(STATE)
        self.sudoers_dir = at("/etc/sudoers.d")
        self.container_markers = tuple(at(m) for m in CONTAINER_MARKERS)
        self.zram_configs = tuple(at(z) for z in ZRAM_CONFIGS)

    def at(self, path):
        """`path` (absolute, as on the host) inside this root."""
        return path if self.root == "/" else os.path.join(self.root, path.lstrip("/"))
