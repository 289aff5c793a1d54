"""Step 10 beyond the story: environments, filesystems, existing files, fallbacks, records."""
import os

import pytest

from cidx_sysprep import environment, state
from cidx_sysprep.config import Config
from cidx_sysprep.swap import ensure_swap_file
from tests.unit.conftest import FSTAB, records, swap_file, write

SWAPON_SHOW = ["swapon", "--show", "--noheadings"]
SIZE = "64K"  # small enough to be real files in tmp_path


@pytest.fixture
def small(paths):
    return Config(swap_file=paths.at("/swapfile"), swap_size=SIZE)


def created(fp, path, size=SIZE):
    for argv in (["fallocate", "-l", size, path], ["chmod", "600", path], ["mkswap", path],
                 ["swapon", path]):
        fp.register(argv)


def fstab_text(paths):
    with open(paths.fstab) as f:
        return f.read()


def test_container_is_skipped_with_one_warning(fp, paths, small, root_runner, logs):
    write(paths.container_markers[0], "lxc\n")

    assert ensure_swap_file(root_runner, small, paths) is True

    assert list(fp.calls) == []
    assert records(logs) == [("WARNING", records(logs, "DEPLOY-GENERAL-108")[0][1])]
    assert "(lxc)" in records(logs)[0][1]


def test_opt_out_runs_nothing(fp, paths, root_runner, logs):
    config = Config(swap=False, swap_file=paths.at("/swapfile"))
    assert ensure_swap_file(root_runner, config, paths) is True
    assert list(fp.calls) == []
    assert records(logs) == [("DEBUG", "Swap disabled by configuration (SWAP=no)")]


@pytest.mark.parametrize("fstype", ["zfs", "tmpfs", "overlay", "nfs4", "fuse.sshfs"])
def test_filesystems_that_cannot_hold_swap_are_refused(fp, paths, small, root_runner, logs, tmp_path, fstype):
    write(paths.mountinfo, f"22 1 0:5 / {tmp_path} rw - {fstype} pool/root rw\n")
    fp.register(SWAPON_SHOW)

    assert ensure_swap_file(root_runner, small, paths) is False

    assert list(fp.calls) == [SWAPON_SHOW]
    [(level, message)] = records(logs, "DEPLOY-GENERAL-109")
    assert level == "ERROR" and f"on {fstype}" in message


def test_disk_space_guard_creates_nothing(fp, paths, small, root_runner, logs, monkeypatch):
    monkeypatch.setattr(environment, "disk_space", lambda d: (64 << 10, 100 << 30))
    fp.register(SWAPON_SHOW)

    assert ensure_swap_file(root_runner, small, paths) is False

    assert list(fp.calls) == [SWAPON_SHOW]
    [(level, message)] = records(logs, "DEPLOY-GENERAL-110")
    assert level == "ERROR" and "needs 1025 MiB free" in message  # 64K + the 1 GiB cap, rounded up
    assert not os.path.exists(small.swap_file)


def test_valid_inactive_file_is_reused_not_recreated(fp, paths, small, root_runner, logs):
    swap_file(small.swap_file)
    fp.register(SWAPON_SHOW)
    fp.register(["swapon", small.swap_file])

    assert ensure_swap_file(root_runner, small, paths) is True

    assert list(fp.calls) == [SWAPON_SHOW, ["swapon", small.swap_file]]
    assert records(logs)[-1] == ("INFO", f"Enabled the existing swap file {small.swap_file}")
    assert fstab_text(paths) == FSTAB + f"{small.swap_file} none swap sw 0 0\n"
    entries = state.read(paths.state)
    assert (state.SWAPFILE, small.swap_file) not in entries  # not ours to delete later
    assert (state.FSTAB, f"{small.swap_file} none swap sw 0 0") in entries


def test_readable_swap_file_is_chmodded_then_reused(fp, paths, small, root_runner):
    swap_file(small.swap_file, mode=0o644)
    fp.register(SWAPON_SHOW)
    fp.register(["chmod", "600", small.swap_file])
    fp.register(["swapon", small.swap_file])

    assert ensure_swap_file(root_runner, small, paths) is True

    assert list(fp.calls)[1:] == [["chmod", "600", small.swap_file], ["swapon", small.swap_file]]


def test_a_file_that_is_not_swap_is_never_touched(fp, paths, small, root_runner, logs):
    write(small.swap_file, "precious data\n")
    fp.register(SWAPON_SHOW)

    assert ensure_swap_file(root_runner, small, paths) is False

    assert list(fp.calls) == [SWAPON_SHOW]
    with open(small.swap_file) as f:
        assert f.read() == "precious data\n"
    assert records(logs, "DEPLOY-GENERAL-111")[0][0] == "ERROR"
    assert fstab_text(paths) == FSTAB


def test_stale_swap_file_of_the_wrong_size_is_recreated(fp, paths, small, root_runner, logs):
    swap_file(small.swap_file, size=128 << 10)
    fp.register(SWAPON_SHOW)
    created(fp, small.swap_file)

    assert ensure_swap_file(root_runner, small, paths) is True

    assert not os.path.exists(small.swap_file)  # removed; the faked fallocate made nothing
    assert list(fp.calls)[1][0] == "fallocate"
    assert (state.SWAPFILE, small.swap_file) in state.read(paths.state)


def test_btrfs_file_is_made_nocow_before_allocation(fp, paths, small, root_runner, tmp_path):
    write(paths.mountinfo, f"30 1 0:31 / {tmp_path} rw - btrfs /dev/vdb rw\n")
    path = small.swap_file
    fp.register(SWAPON_SHOW)
    fp.register(["touch", path])
    fp.register(["chattr", "+C", path])
    created(fp, path)

    assert ensure_swap_file(root_runner, small, paths) is True

    assert list(fp.calls)[1:4] == [["touch", path], ["chattr", "+C", path],
                                   ["fallocate", "-l", SIZE, path]]


def test_btrfs_chattr_failure_removes_the_empty_file(fp, paths, small, root_runner, logs, tmp_path):
    write(paths.mountinfo, f"30 1 0:31 / {tmp_path} rw - btrfs /dev/vdb rw\n")
    fp.register(SWAPON_SHOW)
    fp.register(["touch", small.swap_file], callback=lambda p: write(small.swap_file, ""))
    fp.register(["chattr", "+C", small.swap_file], returncode=1, stderr="Operation not supported")

    assert ensure_swap_file(root_runner, small, paths) is False

    assert not os.path.exists(small.swap_file)
    assert records(logs, "DEPLOY-GENERAL-113")[0][0] == "ERROR"


def test_ext3_writes_zeros_instead_of_fallocate(fp, paths, small, root_runner, tmp_path):
    write(paths.mountinfo, f"30 1 8:1 / {tmp_path} rw - ext3 /dev/sda1 rw\n")
    path = small.swap_file
    fp.register(SWAPON_SHOW)
    dd = ["dd", "if=/dev/zero", f"of={path}", "bs=1K", "count=64", "status=none"]
    for argv in (dd, ["chmod", "600", path], ["mkswap", path], ["swapon", path]):
        fp.register(argv)

    assert ensure_swap_file(root_runner, small, paths) is True

    assert list(fp.calls)[1] == dd


def test_swapon_rejecting_a_fallocated_file_falls_back_to_zeros(fp, paths, small, root_runner, logs):
    path = small.swap_file
    fp.register(SWAPON_SHOW)
    fp.register(["fallocate", "-l", SIZE, path], callback=lambda p: write(path, "x"))
    fp.register(["chmod", "600", path])
    fp.register(["mkswap", path])
    fp.register(["swapon", path], returncode=255, stderr="swapon: /swapfile: swapon failed: Invalid argument")
    dd = ["dd", "if=/dev/zero", f"of={path}", "bs=1K", "count=64", "status=none"]
    fp.register(dd)
    fp.register(["chmod", "600", path])
    fp.register(["mkswap", path])
    fp.register(["swapon", path])

    assert ensure_swap_file(root_runner, small, paths) is True

    assert [c[0] for c in fp.calls] == ["swapon", "fallocate", "chmod", "mkswap", "swapon",
                                        "dd", "chmod", "mkswap", "swapon"]
    assert records(logs, "DEPLOY-GENERAL-096") == []
    assert any("writing zeros instead" in m for _, m in records(logs))


def test_active_swap_file_missing_from_fstab_gets_its_line(fp, paths, small, root_runner):
    fp.register(SWAPON_SHOW, stdout=f"{small.swap_file} file 64K 0B -2\n")

    assert ensure_swap_file(root_runner, small, paths) is True

    assert list(fp.calls) == [SWAPON_SHOW]
    assert fstab_text(paths) == FSTAB + f"{small.swap_file} none swap sw 0 0\n"


def test_fstab_without_final_newline_keeps_every_byte(fp, paths, small, root_runner):
    original = "UUID=abcd /\text4\tdefaults 0 1\n\n# a comment\t\n/dev/vdb none swap sw 0 0"
    write(paths.fstab, original)
    os.chmod(paths.fstab, 0o640)
    fp.register(SWAPON_SHOW)
    created(fp, small.swap_file)

    assert ensure_swap_file(root_runner, small, paths) is True

    assert fstab_text(paths) == original + f"\n{small.swap_file} none swap sw 0 0\n"
    assert os.stat(paths.fstab).st_mode & 0o777 == 0o640
    assert sorted(os.listdir(os.path.dirname(paths.fstab))) == ["fstab", "sysctl.d"]


def test_second_run_writes_nothing(fp, paths, small, root_runner, logs):
    fp.register(SWAPON_SHOW)
    created(fp, small.swap_file)
    assert ensure_swap_file(root_runner, small, paths) is True
    first = fstab_text(paths), os.stat(paths.fstab).st_mtime_ns, state.read(paths.state)
    logs.clear()
    fp.register(SWAPON_SHOW, stdout=f"{small.swap_file} file 64K 0B -2\n")

    assert ensure_swap_file(root_runner, small, paths) is True

    assert (fstab_text(paths), os.stat(paths.fstab).st_mtime_ns, state.read(paths.state)) == first
    assert [level for level, _ in records(logs)] == ["DEBUG"]
