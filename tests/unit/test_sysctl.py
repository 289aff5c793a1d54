"""sysctl.d as the boot applies it: masking, lexical order, /etc/sysctl.conf last, overrides."""
import os

import pytest

from cidx_sysprep import sysctl
from cidx_sysprep.paths import Paths
from tests.unit.conftest import write


@pytest.fixture
def host(tmp_path):
    return Paths(root=str(tmp_path))


def conf(paths, directory, name, text):
    path = os.path.join(paths.at(directory), name)
    write(path, text)
    return path


def test_assignments_reads_comments_blanks_prefixes_and_slash_keys():
    text = ("# a comment\n"
            "; another comment\n"
            "\n"
            "   vm.swappiness=10\n"
            "-vm.overcommit_memory = 1\n"
            "vm/overcommit_memory\t=\t2\n"
            "kernel.sysrq\n"
            "  # indented comment = 5\n"
            "net.core.somaxconn = 1024 # not a comment in sysctl.d\n")
    assert sysctl.assignments(text) == [
        (4, "vm.swappiness", "10"),
        (5, "vm.overcommit_memory", "1"),
        (6, "vm.overcommit_memory", "2"),
        (9, "net.core.somaxconn", "1024 # not a comment in sysctl.d"),
    ]


def test_normalize_key_dots_and_slashes():
    assert sysctl.normalize_key(" vm.overcommit_memory ") == "vm.overcommit_memory"
    assert sysctl.normalize_key("-vm/overcommit_memory") == "vm.overcommit_memory"
    assert sysctl.normalize_key("vm.overcommit_memory") == "vm.overcommit_memory"


def test_normalize_key_with_slash_separators_turns_dots_into_slashes():
    # sysctl.d(5): 'Either "net.ipv4.conf.enp3s0/200.forwarding" or
    # "net/ipv4/conf/enp3s0.200/forwarding" may be used to refer to
    # /proc/sys/net/ipv4/conf/enp3s0.200/forwarding': the dot inside the interface name
    # becomes a slash in the dotted form, or two different keys compare equal.
    assert sysctl.normalize_key("net/ipv4/conf/eth0.100/forwarding") == \
        "net.ipv4.conf.eth0/100.forwarding"


def test_boot_files_mask_order_and_sysctl_conf_last(host):
    dirs = host.sysctl_dirs
    masked = conf(host, "/usr/lib/sysctl.d", "50-pid-max.conf", "kernel.pid_max = 1\n")
    etc_50 = conf(host, "/etc/sysctl.d", "50-pid-max.conf", "kernel.pid_max = 2\n")
    usr_10 = conf(host, "/usr/lib/sysctl.d", "10-default.conf", "vm.overcommit_memory = 0\n")
    run_30 = conf(host, "/run/sysctl.d", "30-run.conf", "")
    lib_99 = conf(host, "/lib/sysctl.d", "99-zz.conf", "")
    local_70 = conf(host, "/usr/local/lib/sysctl.d", "70-local.conf", "")
    ours = conf(host, "/etc/sysctl.d", "99-cidx-memory.conf", sysctl.DROPIN_TEXT)
    conf(host, "/etc/sysctl.d", "README", "vm.overcommit_memory = 0\n")  # not *.conf
    conf(host, "/etc/sysctl.d", "80-x.conf.dpkg-old", "vm.overcommit_memory = 0\n")
    write(host.sysctl_conf, "vm.overcommit_memory = 0\n")
    files = sysctl.boot_files(dirs, host.sysctl_conf)
    assert masked not in files
    assert files == [usr_10, run_30, etc_50, local_70, ours, lib_99, host.sysctl_conf]


def test_boot_files_sysctl_conf_once_when_99_sysctl_links_to_it(host):
    ours = conf(host, "/etc/sysctl.d", "99-cidx-memory.conf", sysctl.DROPIN_TEXT)
    write(host.sysctl_conf, "vm.overcommit_memory = 0\n")
    link = os.path.join(host.sysctl_dirs[0], "99-sysctl.conf")
    os.symlink("../sysctl.conf", link)
    after = conf(host, "/etc/sysctl.d", "99-zz.conf", "")
    assert sysctl.boot_files(host.sysctl_dirs, host.sysctl_conf) == [ours, link, after]


def test_boot_files_without_any_directory_or_sysctl_conf(host):
    assert sysctl.boot_files(host.sysctl_dirs, host.sysctl_conf) == []


def test_boot_assignments_across_files_in_boot_order(host):
    early = conf(host, "/usr/lib/sysctl.d", "10-x.conf", "# c\nvm.overcommit_memory = 0\n")
    ours = conf(host, "/etc/sysctl.d", "99-cidx-memory.conf", sysctl.DROPIN_TEXT)
    write(host.sysctl_conf, "vm.swappiness = 1\n\n-vm/overcommit_memory=2\n")
    assert sysctl.boot_assignments(host.sysctl_dirs, host.sysctl_conf) == [
        (early, 2, "0"), (ours, 4, "1"), (host.sysctl_conf, 3, "2")]


def test_a_name_in_etc_linked_to_dev_null_masks_the_vendor_file(host):
    conf(host, "/usr/lib/sysctl.d", "50-vendor.conf", "vm.overcommit_memory = 0\n")
    os.makedirs(host.sysctl_dirs[0])
    os.symlink("/dev/null", os.path.join(host.sysctl_dirs[0], "50-vendor.conf"))
    assert sysctl.boot_assignments(host.sysctl_dirs, host.sysctl_conf) == []


def test_boot_assignments_skip_an_unreadable_entry(host):
    os.makedirs(os.path.join(host.sysctl_dirs[0], "40-dir.conf"))  # a directory named *.conf
    ours = conf(host, "/etc/sysctl.d", "99-cidx-memory.conf", sysctl.DROPIN_TEXT)
    assert sysctl.boot_assignments(host.sysctl_dirs, host.sysctl_conf) == [(ours, 4, "1")]


def test_overrides_are_other_values_after_ours():
    found = [("/usr/lib/sysctl.d/10-x.conf", 3, "0"),
             ("/etc/sysctl.d/99-cidx-memory.conf", 4, "1"),
             ("/etc/sysctl.d/99-sysctl.conf", 7, "2")]
    assert sysctl.overrides(found, "/etc/sysctl.d/99-cidx-memory.conf") == [
        ("/etc/sysctl.d/99-sysctl.conf", 7, "2")]


def test_overrides_count_from_our_last_line():
    ours = "/etc/sysctl.d/99-cidx-memory.conf"
    found = [(ours, 4, "1"), ("/etc/sysctl.conf", 2, "0"), (ours, 9, "1")]
    assert sysctl.overrides(found, ours) == []


def test_overrides_none_when_only_ours():
    ours = "/etc/sysctl.d/99-cidx-memory.conf"
    assert sysctl.overrides([(ours, 4, "1")], ours) == []
    assert sysctl.overrides([], ours) == []


def test_overrides_ignore_a_line_that_a_later_file_sets_back_to_1():
    # 99-zz.conf sets 0 after ours, but /etc/sysctl.conf sets 1 last: the boot ends at 1,
    # so 99-zz.conf does not "win at boot" and must not be reported as if it did.
    ours = "/etc/sysctl.d/99-cidx-memory.conf"
    found = [(ours, 4, "1"), ("/etc/sysctl.d/99-zz.conf", 1, "0"), ("/etc/sysctl.conf", 5, "1")]
    assert sysctl.overrides(found, ours) == []


def test_overrides_when_our_file_is_absent_report_every_other_value():
    found = [("/etc/sysctl.conf", 2, "0")]
    assert sysctl.overrides(found, "/etc/sysctl.d/99-cidx-memory.conf") == [
        ("/etc/sysctl.conf", 2, "0")]


def test_file_value_takes_the_last_assignment_in_the_file(host):
    path = conf(host, "/etc/sysctl.d", "99-cidx-memory.conf",
                "vm.overcommit_memory = 0\n# vm.overcommit_memory = 2\nvm.overcommit_memory=1\n")
    assert sysctl.file_value(path) == "1"


def test_file_value_none_for_absent_file_or_key(host):
    assert sysctl.file_value(host.sysctl_dropin) is None
    path = conf(host, "/etc/sysctl.d", "99-cidx-memory.conf", "vm.swappiness = 10\n")
    assert sysctl.file_value(path) is None


def test_shipped_dropin_text_sets_exactly_the_wanted_value(host):
    path = conf(host, "/etc/sysctl.d", "99-cidx-memory.conf", sysctl.DROPIN_TEXT)
    assert sysctl.assignments(sysctl.DROPIN_TEXT) == [(4, "vm.overcommit_memory", "1")]
    assert sysctl.file_value(path) == "1"


def test_shipped_conf_file_matches_dropin_text():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(repo, "conf", "99-cidx-memory.conf")) as f:
        assert f.read() == sysctl.DROPIN_TEXT
