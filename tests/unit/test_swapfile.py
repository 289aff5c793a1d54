"""Judging a swap file before acting: real files in tmp_path, the filesystem table, sizes."""
import os
import subprocess

import pytest

from cidx_sysprep import environment, swapfile
from cidx_sysprep.paths import Paths
from tests.unit import conftest

PAGE = os.sysconf("SC_PAGE_SIZE")
SIZE = 256 << 10  # 64 pages of 4 KiB: small, but larger than a page so holes show


def swap_file(path, size=SIZE, **kwargs):
    return conftest.swap_file(path, size=size, **kwargs)


def test_absent(tmp_path):
    assert swapfile.inspect(str(tmp_path / "swapfile"), SIZE) == swapfile.ABSENT


def test_valid_swap_file(tmp_path):
    path = swap_file(tmp_path / "swapfile")
    assert os.stat(path).st_blocks * 512 >= SIZE  # the fixture really has no holes
    assert swapfile.inspect(path, SIZE) == swapfile.VALID


def test_old_style_signature_counts_as_swap(tmp_path):
    path = swap_file(tmp_path / "swapfile", signature=b"SWAP-SPACE")
    assert swapfile.inspect(path, SIZE) == swapfile.VALID


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o700, 0o400])
def test_wrong_mode(tmp_path, mode):
    assert swapfile.inspect(swap_file(tmp_path / "swapfile", mode=mode), SIZE) == swapfile.WRONG_MODE


@pytest.mark.parametrize("size", [SIZE // 2, SIZE * 2])
def test_wrong_size_is_stale(tmp_path, size):
    assert swapfile.inspect(swap_file(tmp_path / "swapfile", size=size), SIZE) == swapfile.STALE


def test_wrong_size_and_wrong_mode_is_stale(tmp_path):
    path = swap_file(tmp_path / "swapfile", size=SIZE * 2, mode=0o644)
    assert swapfile.inspect(path, SIZE) == swapfile.STALE


def test_sparse_file_with_holes_is_stale(tmp_path):
    path = swap_file(tmp_path / "swapfile", sparse=True)
    assert os.stat(path).st_blocks * 512 < SIZE  # the filesystem kept the holes
    assert swapfile.inspect(path, SIZE) == swapfile.STALE


def test_empty_file_is_stale(tmp_path):
    path = tmp_path / "swapfile"
    path.write_bytes(b"")
    assert swapfile.inspect(str(path), SIZE) == swapfile.STALE


def test_random_data_is_not_swap(tmp_path):
    path = tmp_path / "swapfile"
    data = bytearray(os.urandom(SIZE))
    data[PAGE - 10:PAGE] = b"NOTSWAP!!!"  # no chance of a signature by accident
    path.write_bytes(bytes(data))
    os.chmod(path, 0o600)
    assert swapfile.inspect(str(path), SIZE) == swapfile.NOT_SWAP


def test_a_small_text_file_is_not_swap(tmp_path):
    path = tmp_path / "swapfile"
    path.write_text("my notes\n")
    assert swapfile.inspect(str(path), SIZE) == swapfile.NOT_SWAP


def test_signature_elsewhere_is_not_swap(tmp_path):
    path = tmp_path / "swapfile"
    data = bytearray(SIZE)
    data[0:10] = b"SWAPSPACE2"
    path.write_bytes(bytes(data))
    assert swapfile.inspect(str(path), SIZE) == swapfile.NOT_SWAP


def test_a_directory_is_not_swap(tmp_path):
    (tmp_path / "swapfile").mkdir()
    assert swapfile.inspect(str(tmp_path / "swapfile"), SIZE) == swapfile.NOT_SWAP


def test_a_symlink_to_a_valid_swap_file_is_not_swap(tmp_path):
    target = swap_file(tmp_path / "real")
    os.symlink(target, tmp_path / "swapfile")
    assert swapfile.inspect(str(tmp_path / "swapfile"), SIZE) == swapfile.NOT_SWAP


def test_a_dangling_symlink_is_not_swap(tmp_path):
    os.symlink(tmp_path / "nowhere", tmp_path / "swapfile")
    assert swapfile.inspect(str(tmp_path / "swapfile"), SIZE) == swapfile.NOT_SWAP


def test_a_fifo_is_not_swap(tmp_path):
    os.mkfifo(tmp_path / "swapfile")
    assert swapfile.inspect(str(tmp_path / "swapfile"), SIZE) == swapfile.NOT_SWAP


def test_has_swap_signature(tmp_path):
    assert swapfile.has_swap_signature(swap_file(tmp_path / "a")) is True
    assert swapfile.has_swap_signature(swap_file(tmp_path / "b", signature=b"SWAPSPACE3")) is False


@pytest.mark.parametrize("fstype,method", [
    ("ext4", swapfile.FALLOCATE), ("xfs", swapfile.FALLOCATE),
    ("btrfs", swapfile.NOCOW),
    ("ext2", swapfile.ZERO_FILL), ("ext3", swapfile.ZERO_FILL), ("f2fs", swapfile.ZERO_FILL),
    ("vfat", swapfile.ZERO_FILL),
    ("zfs", swapfile.REFUSE), ("tmpfs", swapfile.REFUSE), ("ramfs", swapfile.REFUSE),
    ("overlay", swapfile.REFUSE), ("aufs", swapfile.REFUSE), ("squashfs", swapfile.REFUSE),
    ("nfs", swapfile.REFUSE), ("nfs4", swapfile.REFUSE), ("cifs", swapfile.REFUSE),
    ("smb3", swapfile.REFUSE), ("9p", swapfile.REFUSE), ("virtiofs", swapfile.REFUSE),
    ("ceph", swapfile.REFUSE), ("glusterfs", swapfile.REFUSE),
    ("fuse", swapfile.REFUSE), ("fuseblk", swapfile.REFUSE), ("fuse.sshfs", swapfile.REFUSE),
    ("fuse.gcsfuse", swapfile.REFUSE),
    ("unknown", swapfile.ZERO_FILL), ("reiserfs", swapfile.ZERO_FILL), ("jfs", swapfile.ZERO_FILL),
])
def test_allocation_method(fstype, method):
    assert swapfile.allocation_method(fstype) == method


@pytest.mark.parametrize("size,total,needed", [
    (4 << 30, 100 << 30, (4 << 30) + (1 << 30)),       # 5% is 5 GiB: capped at 1 GiB
    (4 << 30, 10 << 30, (4 << 30) + (512 << 20)),      # 5% of 10 GiB
    (4 << 30, 20 << 30, (4 << 30) + (1 << 30)),        # 5% is exactly the cap
    (1 << 30, 1000, (1 << 30) + 50),
    (64 << 10, 0, 64 << 10),
])
def test_space_needed(size, total, needed):
    assert swapfile.space_needed(size, total) == needed


def test_zero_fill_argv_for_4g():
    assert swapfile.zero_fill_argv("/swapfile", 4 << 30) == [
        "dd", "if=/dev/zero", "of=/swapfile", "bs=1024K", "count=4096", "status=none"]


def test_zero_fill_argv_for_a_size_that_is_not_whole_mib():
    assert swapfile.zero_fill_argv("/data/swap", (1 << 20) + (40 << 10)) == [
        "dd", "if=/dev/zero", "of=/data/swap", "bs=1K", "count=1064", "status=none"]


def test_zero_fill_argv_for_the_smallest_size():
    assert swapfile.zero_fill_argv("/s", 40 << 10) == [
        "dd", "if=/dev/zero", "of=/s", "bs=1K", "count=40", "status=none"]


def test_zero_fill_argv_writes_exactly_the_size(tmp_path):
    path = str(tmp_path / "zeros")
    size = (1 << 20) + (12 << 10)
    argv = swapfile.zero_fill_argv(path, size)
    subprocess.run(argv, check=True)
    assert os.stat(path).st_size == size
    assert os.stat(path).st_blocks * 512 >= size


# --- decide: the facts above combined, as provisioning and the dry-run plan both use them ------

@pytest.fixture
def on_fs(tmp_path, monkeypatch):
    """A root whose mountinfo puts tmp_path on `fstype`, with `free` of `total` bytes."""
    def make(fstype="ext4", free=100 << 30, total=200 << 30):
        paths = Paths(root=str(tmp_path))
        os.makedirs(os.path.dirname(paths.mountinfo))
        with open(paths.mountinfo, "w") as f:
            f.write(f"30 1 8:1 / {os.path.realpath(tmp_path)} rw - {fstype} /dev/sda1 rw\n")
        asked = []
        monkeypatch.setattr(environment, "disk_space",
                            lambda directory: asked.append(directory) or (free, total))
        return paths, asked
    return make


def facts(decision):
    return (decision.action, decision.method, decision.existing, decision.fstype,
            decision.mount_point, decision.needed, decision.free)


def test_decide_refuses_a_filesystem_before_looking_at_the_file(on_fs, tmp_path):
    paths, asked = on_fs("tmpfs")
    path = swap_file(tmp_path / "swapfile")
    assert facts(swapfile.decide(path, SIZE, paths)) == (
        swapfile.REFUSE_FILESYSTEM, swapfile.REFUSE, None, "tmpfs", str(tmp_path), 0, 0)
    assert asked == []


def test_decide_refuses_a_file_that_is_not_swap(on_fs, tmp_path):
    paths, _ = on_fs()
    (tmp_path / "swapfile").write_text("data\n")
    assert facts(swapfile.decide(str(tmp_path / "swapfile"), SIZE, paths)) == (
        swapfile.REFUSE_NOT_SWAP, swapfile.FALLOCATE, swapfile.NOT_SWAP, "ext4", str(tmp_path), 0, 0)


@pytest.mark.parametrize("mode,existing", [(0o600, swapfile.VALID), (0o644, swapfile.WRONG_MODE)])
def test_decide_reuses_a_valid_file_without_asking_for_space(on_fs, tmp_path, mode, existing):
    paths, asked = on_fs("btrfs", free=0)
    path = swap_file(tmp_path / "swapfile", mode=mode)
    assert facts(swapfile.decide(path, SIZE, paths)) == (
        swapfile.REUSE, swapfile.NOCOW, existing, "btrfs", str(tmp_path), 0, 0)
    assert asked == []


def test_decide_creates_when_there_is_room(on_fs, tmp_path):
    paths, asked = on_fs("xfs", free=10 << 30, total=100 << 30)
    path = str(tmp_path / "swapfile")
    assert facts(swapfile.decide(path, 4 << 30, paths)) == (
        swapfile.CREATE, swapfile.FALLOCATE, swapfile.ABSENT, "xfs", str(tmp_path),
        5 << 30, 10 << 30)
    assert asked == [str(tmp_path)]


def test_decide_refuses_when_the_disk_would_fill(on_fs, tmp_path):
    paths, _ = on_fs("ext4", free=(4 << 30) + (1 << 30) - 1, total=100 << 30)
    decision = swapfile.decide(str(tmp_path / "swapfile"), 4 << 30, paths)
    assert facts(decision) == (swapfile.REFUSE_SPACE, swapfile.FALLOCATE, swapfile.ABSENT, "ext4",
                               str(tmp_path), 5 << 30, (5 << 30) - 1)


def test_decide_counts_a_stale_files_blocks_as_free(on_fs, tmp_path):
    path = swap_file(tmp_path / "swapfile", size=SIZE * 2)  # stale: wrong size
    blocks = os.stat(path).st_blocks * 512
    needed = SIZE + 50
    paths, _ = on_fs("ext4", free=needed - blocks, total=1000)
    assert facts(swapfile.decide(path, SIZE, paths)) == (
        swapfile.CREATE, swapfile.FALLOCATE, swapfile.STALE, "ext4", str(tmp_path), needed, needed)


def test_decide_zero_fills_on_an_unknown_filesystem(on_fs, tmp_path):
    paths, _ = on_fs("reiserfs")
    decision = swapfile.decide(str(tmp_path / "swapfile"), SIZE, paths)
    assert (decision.action, decision.method) == (swapfile.CREATE, swapfile.ZERO_FILL)
