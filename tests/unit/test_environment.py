"""What the host is, read from files in a tmp root: containers, /proc/swaps, mountinfo."""
import os

import pytest

from cidx_sysprep import environment
from cidx_sysprep.paths import Paths
from tests.unit.conftest import write

# /proc/swaps as the kernel prints it (seq_file: tabs, sizes in KiB, paths escaped).
PROC_SWAPS = (
    "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
    "/swapfile                               file\t\t4194300\t\t0\t\t-2\n"
    "/dev/vda2                               partition\t2097148\t\t1024\t\t-3\n"
    "/mnt/my\\040disk/swap                    file\t\t65532\t\t0\t\t10\n"
)


@pytest.fixture
def host(tmp_path):
    return Paths(root=str(tmp_path))


# --- containers -----------------------------------------------------------------------------

def test_no_container_markers(host):
    assert environment.container(host) is None


@pytest.mark.parametrize("content,name", [("docker\n", "docker"), ("lxc", "lxc"),
                                          ("systemd-nspawn\n", "systemd-nspawn"),
                                          ("\n", "container"), ("", "container")])
def test_systemd_container_file_names_the_manager(host, content, name):
    write(host.at("/run/systemd/container"), content)
    assert environment.container(host) == name


def test_systemd_answer_wins_over_other_markers(host):
    write(host.at("/run/systemd/container"), "podman\n")
    write(host.at("/.dockerenv"), "")
    assert environment.container(host) == "podman"


def test_dockerenv(host):
    write(host.at("/.dockerenv"), "")
    assert environment.container(host) == "docker"


def test_containerenv(host):
    write(host.at("/run/.containerenv"), "engine=\"podman-4.3\"\n")
    assert environment.container(host) == "podman"


def test_markers_are_looked_up_inside_the_root(host):
    assert host.container_markers == (host.at("/run/systemd/container"), host.at("/.dockerenv"),
                                      host.at("/run/.containerenv"))


# --- /proc/sys and overcommit ----------------------------------------------------------------

def test_proc_sys_missing_counts_as_read_only(host):
    assert environment.proc_sys_read_only(host) is True


def test_proc_sys_on_a_writable_filesystem(host):
    os.makedirs(host.proc_sys)
    assert environment.proc_sys_read_only(host) is False


@pytest.mark.parametrize("flag,expected", [(os.ST_RDONLY, True), (0, False),
                                           (os.ST_RDONLY | os.ST_NOSUID, True)])
def test_proc_sys_read_only_reads_the_mount_flag(host, monkeypatch, flag, expected):
    class Result:
        f_flag = flag

    seen = []
    monkeypatch.setattr(environment.os, "statvfs", lambda p: seen.append(p) or Result())
    assert environment.proc_sys_read_only(host) is expected
    assert seen == [host.proc_sys]


@pytest.mark.parametrize("text,value", [("1\n", "1"), ("0\n", "0"), ("2", "2")])
def test_read_overcommit(host, text, value):
    write(host.overcommit, text)
    assert environment.read_overcommit(host) == value


def test_read_overcommit_unreadable(host):
    assert environment.read_overcommit(host) is None


# --- /proc/swaps ----------------------------------------------------------------------------

def test_active_swaps_parses_the_kernel_table(host):
    write(host.swaps, PROC_SWAPS)
    assert environment.active_swaps(host) == [
        {"path": "/swapfile", "type": "file", "size_bytes": 4194300 * 1024, "used_bytes": 0,
         "priority": -2},
        {"path": "/dev/vda2", "type": "partition", "size_bytes": 2097148 * 1024,
         "used_bytes": 1024 * 1024, "priority": -3},
        {"path": "/mnt/my disk/swap", "type": "file", "size_bytes": 65532 * 1024, "used_bytes": 0,
         "priority": 10},
    ]


def test_active_swaps_of_a_file_deleted_while_active(host):
    write(host.swaps, "Filename\tType\tSize\tUsed\tPriority\n"
                      "/swapfile\\040(deleted)                  file\t\t1020\t\t0\t\t-2\n")
    assert [a["path"] for a in environment.active_swaps(host)] == ["/swapfile (deleted)"]


def test_active_swaps_header_only(host):
    write(host.swaps, PROC_SWAPS.splitlines(keepends=True)[0])
    assert environment.active_swaps(host) == []


def test_active_swaps_unreadable(host):
    assert environment.active_swaps(host) == []


# --- mountinfo --------------------------------------------------------------------------------

def mountinfo(*rows):
    """proc_pid_mountinfo(5) rows from (id, mount point, optional fields, fstype, source)."""
    return "".join(f"{i} 1 0:{i} / {point} rw,relatime {opt}- {fstype} {source} rw\n"
                   for i, point, opt, fstype, source in rows)


NESTED = mountinfo(
    (20, "/", "shared:1 ", "ext4", "/dev/vda1"),
    (21, "/var", "shared:2 ", "xfs", "/dev/vda2"),
    (22, "/var/lib", "", "btrfs", "/dev/vda3"),
    (23, "/mnt/my\\040disk", "shared:3 master:1 ", "zfs", "tank/data"),
    (24, "/srv", "", "ext4", "/dev/vdb1"),
    (25, "/srv", "shared:9 ", "tmpfs", "tmpfs"),   # mounted over the ext4 /srv
)


@pytest.mark.parametrize("path,expected", [
    ("/swapfile", ("ext4", "/")),
    ("/", ("ext4", "/")),
    ("/var", ("xfs", "/var")),
    ("/var/swap", ("xfs", "/var")),
    ("/var/lib", ("btrfs", "/var/lib")),
    ("/var/lib/swap/file", ("btrfs", "/var/lib")),
    ("/var/library/swap", ("xfs", "/var")),       # a name prefix is not a parent
    ("/variable", ("ext4", "/")),
    ("/mnt/my disk/swap", ("zfs", "/mnt/my disk")),
    ("/mnt/my", ("ext4", "/")),
    ("/srv/swap", ("tmpfs", "/srv")),             # the upper mount hides the lower
])
def test_filesystem_of(host, path, expected):
    write(host.mountinfo, NESTED)
    assert environment.filesystem_of(path, host) == expected


def test_filesystem_of_over_mount_of_root(host):
    write(host.mountinfo, mountinfo((1, "/", "", "rootfs", "rootfs"),
                                    (2, "/", "", "overlay", "overlay")))
    assert environment.filesystem_of("/swapfile", host) == ("overlay", "/")


def test_filesystem_of_a_deeper_mount_listed_before_its_parent(host):
    write(host.mountinfo, mountinfo((2, "/data/swap", "", "ext4", "/dev/b"),
                                    (1, "/data", "", "nfs4", "srv:/d")))
    assert environment.filesystem_of("/data/swap/file", host) == ("ext4", "/data/swap")


def test_filesystem_of_without_mountinfo(host):
    assert environment.filesystem_of("/swapfile", host) == ("unknown", "/")


def test_filesystem_of_skips_malformed_rows(host):
    write(host.mountinfo, "garbage\n20 1 0:1 / / rw\n" + mountinfo((3, "/", "", "xfs", "/dev/x")))
    assert environment.filesystem_of("/swapfile", host) == ("xfs", "/")


def test_filesystem_of_a_real_directory_follows_symlinks(host, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "link")
    write(host.mountinfo, mountinfo((1, "/", "", "ext4", "/dev/a"), (2, str(real), "", "xfs", "/dev/b")))
    assert environment.filesystem_of(str(tmp_path / "link"), host) == ("xfs", str(real))


def test_disk_space_of_a_real_directory(tmp_path):
    free, total = environment.disk_space(str(tmp_path))
    st = os.statvfs(str(tmp_path))
    assert total == st.f_blocks * st.f_frsize
    assert 0 <= free <= total
    assert free == pytest.approx(st.f_bavail * st.f_frsize, rel=0.01)


# --- whose sysctls ----------------------------------------------------------------------------

def test_sysctls_are_ours_on_a_host_with_writable_proc_sys(host):
    os.makedirs(host.proc_sys)
    assert environment.why_sysctl_is_not_ours(host) is None


def test_sysctls_are_not_ours_in_a_container_even_with_writable_proc_sys(host):
    os.makedirs(host.proc_sys)  # a privileged container: writing would change the host
    write(host.at("/run/systemd/container"), "lxc\n")
    assert environment.why_sysctl_is_not_ours(host) == "running in a container (lxc)"


def test_sysctls_are_not_ours_with_read_only_proc_sys(host, monkeypatch):
    monkeypatch.setattr(environment, "proc_sys_read_only", lambda paths: True)
    assert environment.why_sysctl_is_not_ours(host) == "/proc/sys is read-only"
