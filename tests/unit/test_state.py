"""The record of what the tool created: KIND<TAB>VALUE lines, read, rendered, added once, forgotten."""
import os
import stat

from cidx_sysprep import state
from tests.unit.conftest import records, write

FSTAB_LINE = "/swapfile none swap sw 0 0"


def read_text(path):
    with open(path) as f:
        return f.read()


def test_read_absent_record_is_empty(paths):
    assert state.read(paths.state) == []


def test_read_splits_at_the_first_tab_and_skips_lines_without_one(paths):
    write(paths.state, "swapfile\t/swapfile\n"
                       "fstab\t/swap\tfile\tnone swap sw 0 0\n"
                       "garbage line\n"
                       "\n"
                       "overcommit-before\t0")
    assert state.read(paths.state) == [("swapfile", "/swapfile"),
                                       ("fstab", "/swap\tfile\tnone swap sw 0 0"),
                                       ("overcommit-before", "0")]


def test_render_is_one_tab_separated_line_each():
    assert state.render([("swapfile", "/swapfile"), ("fstab", FSTAB_LINE)]) == (
        "swapfile\t/swapfile\nfstab\t/swapfile none swap sw 0 0\n")
    assert state.render([]) == ""


def test_values_of_one_kind_in_order():
    entries = [("swapfile", "/a"), ("fstab", FSTAB_LINE), ("swapfile", "/b")]
    assert state.values(entries, state.SWAPFILE) == ["/a", "/b"]
    assert state.values(entries, state.SYSCTL_DROPIN) == []


def test_kind_names_match_the_documented_record_format():
    assert (state.SWAPFILE, state.FSTAB, state.SYSCTL_DROPIN, state.OVERCOMMIT_BEFORE) == (
        "swapfile", "fstab", "sysctl-dropin", "overcommit-before")


def test_record_creates_the_file_and_its_directory(paths, root_runner):
    os.rmdir(os.path.dirname(paths.at("/var/lib/x")))  # no /var/lib at all
    state.record(root_runner, paths.state, state.SWAPFILE, "/swapfile")
    assert read_text(paths.state) == "swapfile\t/swapfile\n"
    assert stat.S_IMODE(os.stat(paths.state).st_mode) == 0o644


def test_record_appends_in_order(paths, root_runner):
    state.record(root_runner, paths.state, state.SWAPFILE, "/swapfile")
    state.record(root_runner, paths.state, state.FSTAB, FSTAB_LINE)
    state.record(root_runner, paths.state, state.SYSCTL_DROPIN, "/etc/sysctl.d/99-cidx-memory.conf")
    assert read_text(paths.state) == ("swapfile\t/swapfile\n"
                                      "fstab\t/swapfile none swap sw 0 0\n"
                                      "sysctl-dropin\t/etc/sysctl.d/99-cidx-memory.conf\n")


def test_record_does_not_duplicate_an_entry(paths, root_runner):
    state.record(root_runner, paths.state, state.SWAPFILE, "/swapfile")
    state.record(root_runner, paths.state, state.SWAPFILE, "/swapfile")
    assert read_text(paths.state) == "swapfile\t/swapfile\n"


def test_record_same_kind_other_value_is_added(paths, root_runner):
    state.record(root_runner, paths.state, state.SWAPFILE, "/swapfile")
    state.record(root_runner, paths.state, state.SWAPFILE, "/data/swap")
    assert state.read(paths.state) == [("swapfile", "/swapfile"), ("swapfile", "/data/swap")]


def test_record_once_keeps_the_first_value_of_a_kind(paths, root_runner):
    state.record(root_runner, paths.state, state.OVERCOMMIT_BEFORE, "0", once=True)
    state.record(root_runner, paths.state, state.OVERCOMMIT_BEFORE, "1", once=True)
    assert read_text(paths.state) == "overcommit-before\t0\n"


def test_record_does_not_rewrite_when_nothing_changes(paths, root_runner):
    state.record(root_runner, paths.state, state.SWAPFILE, "/swapfile")
    inode = os.stat(paths.state).st_ino
    state.record(root_runner, paths.state, state.SWAPFILE, "/swapfile")
    assert os.stat(paths.state).st_ino == inode


def test_record_failure_is_a_warning_with_code_114(paths, sudo_runner, fp, logs):
    tmp = paths.state + ".cidx-sysprep.tmp"
    fp.register(["sudo", "mkdir", "-p", os.path.dirname(paths.state)])
    fp.register(["sudo", "tee", tmp], returncode=1, stderr="tee: Read-only file system\n")
    fp.register(["sudo", "rm", "-f", tmp])
    state.record(sudo_runner, paths.state, state.SWAPFILE, "/swapfile")
    found = records(logs, "DEPLOY-GENERAL-114")
    assert len(found) == 1
    level, message = found[0]
    assert level == "WARNING"
    assert message.startswith("DEPLOY-GENERAL-114: Could not record swapfile /swapfile: "
                              f"tee {tmp}: tee: Read-only file system [correlation_id=")
    assert not os.path.exists(paths.state)


def test_forget_removes_one_entry_and_keeps_the_rest(paths, root_runner):
    write(paths.state, "swapfile\t/swapfile\nfstab\t/swapfile none swap sw 0 0\n")
    assert state.forget(root_runner, paths.state, state.SWAPFILE, "/swapfile") is None
    assert read_text(paths.state) == "fstab\t/swapfile none swap sw 0 0\n"


def test_forget_the_last_entry_removes_the_file(paths, root_runner):
    write(paths.state, "swapfile\t/swapfile\n")
    assert state.forget(root_runner, paths.state, state.SWAPFILE, "/swapfile") is None
    assert not os.path.exists(paths.state)


def test_forget_an_unrecorded_entry_leaves_the_others(paths, root_runner):
    write(paths.state, "swapfile\t/swapfile\n")
    assert state.forget(root_runner, paths.state, state.SWAPFILE, "/other") is None
    assert read_text(paths.state) == "swapfile\t/swapfile\n"


def test_forget_with_no_record_is_fine(paths, root_runner):
    assert state.forget(root_runner, paths.state, state.SWAPFILE, "/swapfile") is None
    assert not os.path.exists(paths.state)


def test_record_then_forget_round_trip(paths, root_runner):
    state.record(root_runner, paths.state, state.FSTAB, FSTAB_LINE)
    state.forget(root_runner, paths.state, state.FSTAB, FSTAB_LINE)
    assert state.read(paths.state) == []
