"""The one runner: commands with captured text output and sudo only when not root; atomic
privileged writes that keep an existing file's mode and owner."""
import os
import stat
import subprocess

import pytest

from cidx_sysprep import runner as runner_module
from cidx_sysprep.runner import Runner
from tests.unit.conftest import write

TEXT = "line one\nline two\n"


def listing(directory):
    return sorted(os.listdir(directory))


# --- Runner.run ---------------------------------------------------------------------------

@pytest.fixture
def recorded(monkeypatch):
    """subprocess.run replaced by a recorder: (argv, kwargs) per call."""
    calls = []

    def fake_run(argv, **kwargs):
        calls.append((argv, kwargs))
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(runner_module.subprocess, "run", fake_run)
    return calls


def test_run_captures_text_and_closes_stdin(recorded):
    Runner(as_root=True).run(["sysctl", "-n", "vm.overcommit_memory"])
    assert recorded == [(["sysctl", "-n", "vm.overcommit_memory"],
                         {"env": runner_module._ENV, "input": None, "stdin": subprocess.DEVNULL,
                          "capture_output": True, "text": True})]


def test_run_with_input_passes_it_and_leaves_stdin_to_subprocess(recorded):
    Runner(as_root=True).run(["tee", "/etc/x"], input="data\n")
    assert recorded == [(["tee", "/etc/x"],
                         {"env": runner_module._ENV, "input": "data\n", "stdin": None,
                          "capture_output": True, "text": True})]


def test_commands_find_sbin_for_a_user_whose_path_lacks_it():
    assert runner_module.command_environment({"PATH": "/usr/bin:/bin", "LANG": "C"}) == {
        "PATH": "/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin", "LANG": "C"}
    assert runner_module.command_environment({"PATH": "/sbin:/usr/sbin:/usr/bin"}) == {
        "PATH": "/sbin:/usr/sbin:/usr/bin:/usr/local/sbin"}


def test_run_prefixes_sudo_only_when_not_root_and_privileged(fp):
    fp.register(["sudo", "swapon", "/swapfile"])
    fp.register(["swapon", "--show", "--noheadings"])
    fp.register(["swapon", "/swapfile"])
    Runner(as_root=False).run(["swapon", "/swapfile"])
    Runner(as_root=False).run(["swapon", "--show", "--noheadings"], privileged=False)
    Runner(as_root=True).run(["swapon", "/swapfile"])
    assert list(fp.calls) == [["sudo", "swapon", "/swapfile"],
                              ["swapon", "--show", "--noheadings"],
                              ["swapon", "/swapfile"]]


def test_run_returns_the_completed_process_as_text(fp):
    fp.register(["sysctl", "-n", "vm.overcommit_memory"], stdout="0\n", stderr="warn\n",
                returncode=3)
    result = Runner(as_root=True).run(["sysctl", "-n", "vm.overcommit_memory"])
    assert (result.returncode, result.stdout, result.stderr) == (3, "0\n", "warn\n")


def test_run_really_closes_stdin_so_nothing_waits_on_a_prompt():
    result = Runner(as_root=True).run(["/bin/cat"])
    assert (result.returncode, result.stdout) == (0, "")


def test_run_really_feeds_input_and_returns_str():
    result = Runner(as_root=True).run(["/bin/cat"], input="héllo\n")
    assert result.stdout == "héllo\n"


@pytest.mark.parametrize("euid,as_root", [(0, True), (1000, False)])
def test_root_is_detected_from_the_effective_uid(monkeypatch, euid, as_root):
    monkeypatch.setattr(runner_module.os, "geteuid", lambda: euid)
    assert Runner().as_root is as_root


def test_explicit_as_root_wins_over_the_uid(monkeypatch):
    monkeypatch.setattr(runner_module.os, "geteuid", lambda: 0)
    assert Runner(as_root=False).as_root is False


# --- Runner.write_file as root ----------------------------------------------------------------

@pytest.mark.parametrize("umask,mode", [(0o077, 0o644), (0o000, 0o600), (0o022, 0o664)])
def test_new_file_gets_exactly_the_mode_whatever_the_umask(tmp_path, umask, mode):
    path = str(tmp_path / "etc" / "sysctl.d" / "99-x.conf")  # directories made too
    old = os.umask(umask)
    try:
        assert Runner(as_root=True).write_file(path, TEXT, mode=mode) is None
    finally:
        os.umask(old)
    with open(path) as f:
        assert f.read() == TEXT
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert listing(os.path.dirname(path)) == ["99-x.conf"]


def test_new_file_default_mode_is_0644(tmp_path):
    path = str(tmp_path / "fstab")
    old = os.umask(0o077)
    try:
        Runner(as_root=True).write_file(path, TEXT)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_replace_keeps_mode_and_owner_of_the_existing_file(tmp_path):
    path = str(tmp_path / "fstab")
    write(path, "old\n")
    os.chmod(path, 0o640)
    os.chown(path, 1234, 5678)
    before = os.stat(path)
    assert Runner(as_root=True).write_file(path, TEXT, mode=0o600) is None
    after = os.stat(path)
    with open(path) as f:
        assert f.read() == TEXT
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (0o640, 1234, 5678)
    assert after.st_ino != before.st_ino  # replaced by rename, not rewritten in place
    assert listing(tmp_path) == ["fstab"]


def test_replace_keeps_an_unusual_mode(tmp_path):
    path = str(tmp_path / "created")
    write(path, "old\n")
    os.chmod(path, 0o600)
    old = os.umask(0o022)
    try:
        Runner(as_root=True).write_file(path, TEXT, mode=0o644)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_reader_sees_the_old_or_the_new_file(tmp_path):
    path = str(tmp_path / "fstab")
    write(path, "old\n")
    with open(path) as held:  # opened before the write: still the old inode, untouched
        Runner(as_root=True).write_file(path, TEXT)
        assert held.read() == "old\n"
    with open(path) as f:
        assert f.read() == TEXT


def test_write_under_a_file_fails_with_a_message_and_leaves_nothing(tmp_path):
    write(str(tmp_path / "afile"), "x")
    path = str(tmp_path / "afile" / "fstab")
    failed = Runner(as_root=True).write_file(path, TEXT)
    assert failed.startswith(f"writing {path}: ")
    assert listing(tmp_path) == ["afile"]
    with open(tmp_path / "afile") as f:
        assert f.read() == "x"


def test_failed_rename_removes_the_temporary_file(tmp_path):
    # The path is a directory: the temporary file is written, then os.replace fails.
    target = tmp_path / "fstab"
    target.mkdir()
    failed = Runner(as_root=True).write_file(str(target), TEXT)
    assert failed == f"writing {target}: Is a directory"
    assert listing(tmp_path) == ["fstab"]
    assert listing(target) == []


# --- Runner.write_file through sudo -------------------------------------------------------------

def tee_input(received):
    def stdin_callable(text):
        received.append(text)
    return stdin_callable


def test_sudo_write_of_a_new_file(fp, tmp_path):
    path = str(tmp_path / "etc" / "fstab")
    tmp = f"{path}.cidx-sysprep.tmp"
    received = []
    fp.register(["sudo", "mkdir", "-p", str(tmp_path / "etc")])
    fp.register(["sudo", "tee", tmp], stdin_callable=tee_input(received))
    fp.register(["sudo", "chmod", "640", tmp])
    fp.register(["sudo", "sync", tmp])
    fp.register(["sudo", "mv", "-f", tmp, path])
    assert Runner(as_root=False).write_file(path, TEXT, mode=0o640) is None
    assert list(fp.calls) == [["sudo", "mkdir", "-p", str(tmp_path / "etc")],
                              ["sudo", "tee", tmp],
                              ["sudo", "chmod", "640", tmp],
                              ["sudo", "sync", tmp],
                              ["sudo", "mv", "-f", tmp, path]]
    assert received == [TEXT]


def test_sudo_write_over_an_existing_file_copies_it_to_keep_mode_and_owner(fp, tmp_path):
    path = str(tmp_path / "fstab")
    write(path, "old\n")
    tmp = f"{path}.cidx-sysprep.tmp"
    received = []
    fp.register(["sudo", "cp", "-p", path, tmp])
    fp.register(["sudo", "tee", tmp], stdin_callable=tee_input(received))
    fp.register(["sudo", "sync", tmp])
    fp.register(["sudo", "mv", "-f", tmp, path])
    assert Runner(as_root=False).write_file(path, TEXT) is None
    assert list(fp.calls) == [["sudo", "cp", "-p", path, tmp],
                              ["sudo", "tee", tmp],
                              ["sudo", "sync", tmp],
                              ["sudo", "mv", "-f", tmp, path]]
    assert received == [TEXT]


def test_sudo_write_stops_at_the_first_failure_and_removes_the_temporary_file(fp, tmp_path):
    path = str(tmp_path / "fstab")
    write(path, "old\n")
    tmp = f"{path}.cidx-sysprep.tmp"
    fp.register(["sudo", "cp", "-p", path, tmp])
    fp.register(["sudo", "tee", tmp], returncode=1, stderr="tee: x: Read-only file system\n")
    fp.register(["sudo", "rm", "-f", tmp])
    failed = Runner(as_root=False).write_file(path, TEXT)
    assert failed == f"tee {tmp}: tee: x: Read-only file system"
    assert list(fp.calls) == [["sudo", "cp", "-p", path, tmp],
                              ["sudo", "tee", tmp],
                              ["sudo", "rm", "-f", tmp]]
    with open(path) as f:
        assert f.read() == "old\n"


def test_sudo_write_failing_mv_is_reported(fp, tmp_path):
    path = str(tmp_path / "new.conf")
    tmp = f"{path}.cidx-sysprep.tmp"
    fp.register(["sudo", "mkdir", "-p", str(tmp_path)])
    fp.register(["sudo", "tee", tmp])
    fp.register(["sudo", "chmod", "644", tmp])
    fp.register(["sudo", "sync", tmp])
    fp.register(["sudo", "mv", "-f", tmp, path], returncode=1, stderr="mv: denied\n")
    fp.register(["sudo", "rm", "-f", tmp])
    assert Runner(as_root=False).write_file(path, TEXT) == f"mv -f {tmp} {path}: mv: denied"
    assert fp.calls[-1] == ["sudo", "rm", "-f", tmp]


# --- Runner.remove_file -------------------------------------------------------------------------

def test_remove_file_as_root(tmp_path):
    path = str(tmp_path / "swapfile")
    write(path, "x")
    assert Runner(as_root=True).remove_file(path) is None
    assert listing(tmp_path) == []


def test_remove_absent_file_as_root_is_fine(tmp_path):
    assert Runner(as_root=True).remove_file(str(tmp_path / "absent")) is None


def test_remove_failure_as_root_says_what(tmp_path):
    (tmp_path / "adir").mkdir()
    path = str(tmp_path / "adir")
    assert Runner(as_root=True).remove_file(path) == f"rm {path}: Is a directory"
    assert listing(tmp_path) == ["adir"]


def test_remove_file_through_sudo(fp):
    fp.register(["sudo", "rm", "-f", "/swapfile"])
    assert Runner(as_root=False).remove_file("/swapfile") is None
    assert list(fp.calls) == [["sudo", "rm", "-f", "/swapfile"]]


def test_remove_file_through_sudo_failure(fp):
    fp.register(["sudo", "rm", "-f", "/swapfile"], returncode=1,
                stderr="rm: cannot remove '/swapfile': Operation not permitted\n")
    assert Runner(as_root=False).remove_file("/swapfile") == (
        "rm -f /swapfile: rm: cannot remove '/swapfile': Operation not permitted")
