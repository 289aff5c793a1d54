"""probe() judges a host built in tmp_path; plan() says what provision would do, in words."""
import os

import pytest

from cidx_sysprep import environment, probe, sysctl
from cidx_sysprep.config import Config
from tests.unit.conftest import SWAPS_HEADER, swap_file, write

SIZE = "64K"
LINE = "{} none swap sw 0 0"


@pytest.fixture
def writable_proc_sys(monkeypatch):
    monkeypatch.setattr(environment, "proc_sys_read_only", lambda paths: False)


@pytest.fixture
def host(paths, writable_proc_sys):
    """The conftest host (overcommit 0, no swap, ext4, no drop-in) with a writable /proc/sys."""
    return paths


def cfg(paths, **kwargs):
    return Config(swap_file=paths.at("/swapfile"), swap_size=SIZE, **kwargs)


def set_overcommit(paths, value):
    write(paths.overcommit, f"{value}\n")


def install_dropin(paths, text=sysctl.DROPIN_TEXT):
    write(paths.sysctl_dropin, text)


def activate(paths, *areas):
    """/proc/swaps listing `areas` as (path, type)."""
    write(paths.swaps, SWAPS_HEADER + "".join(
        f"{p}\t{t}\t\t65532\t\t0\t\t-2\n".replace(" ", "\\040") for p, t in areas))


def add_to_fstab(paths, spec):
    with open(paths.fstab, "a") as f:
        f.write(LINE.format(spec.replace(" ", "\\040")) + "\n")


def converge(paths):
    set_overcommit(paths, 1)
    install_dropin(paths)
    activate(paths, (paths.at("/swapfile"), "file"))
    add_to_fstab(paths, paths.at("/swapfile"))


def mounted_on(paths, fstype):
    root = os.path.realpath(paths.root)
    write(paths.mountinfo, f"22 1 254:0 / {root} rw,relatime shared:1 - {fstype} /dev/vda rw\n")


# --- probe -----------------------------------------------------------------------------------

def test_converged_host(host):
    converge(host)
    status = probe.probe(cfg(host), host)
    swapfile = host.at("/swapfile")
    assert status["provisioned"] is True
    assert status["problems"] == []
    assert status["overcommit"] == {
        "enabled": True, "effective": "1", "boot_value": "1",
        "boot_source": f"{host.sysctl_dropin}:4", "dropin": host.sysctl_dropin,
        "dropin_value": "1", "overrides": [], "ok": True}
    assert status["swap"] == {
        "enabled": True, "file": swapfile, "size": SIZE,
        "active": [{"path": swapfile, "type": "file", "size_bytes": 65532 * 1024,
                    "used_bytes": 0, "priority": -2, "in_fstab": True,
                                           "recreated_by": None}],
        "file_active": True, "persistent": True, "ok": True}
    assert status["environment"] == {"container": None, "proc_sys_read_only": False}
    assert (status["schema"], set(status)) == (1, {"schema", "version", "provisioned", "overcommit",
                                                   "swap", "environment", "problems"})


def test_bare_host(host):
    status = probe.probe(cfg(host), host)
    assert status["provisioned"] is False
    assert (status["overcommit"]["ok"], status["swap"]["ok"]) == (False, False)
    assert status["problems"] == [
        "vm.overcommit_memory is 0, not 1: fork() of a process with large mappings can fail "
        "with ENOMEM",
        "at boot vm.overcommit_memory will be the kernel default",
        "no swap is active",
    ]


def test_effective_0_with_the_dropin_in_place(host):
    converge(host)
    set_overcommit(host, 0)
    status = probe.probe(cfg(host), host)
    assert (status["provisioned"], status["overcommit"]["ok"]) == (False, False)
    assert status["problems"] == [
        "vm.overcommit_memory is 0, not 1: fork() of a process with large mappings can fail "
        "with ENOMEM"]


def test_effective_1_but_nothing_sets_it_at_boot(host):
    converge(host)
    os.unlink(host.sysctl_dropin)
    status = probe.probe(cfg(host), host)
    assert status["provisioned"] is False
    assert (status["overcommit"]["boot_value"], status["overcommit"]["boot_source"]) == (None, None)
    assert status["overcommit"]["dropin_value"] is None
    assert status["problems"] == ["at boot vm.overcommit_memory will be the kernel default"]


def test_sysctl_conf_overrides_the_dropin_at_boot(host):
    converge(host)
    write(host.sysctl_conf, "# local settings\nvm.overcommit_memory = 0\n")
    status = probe.probe(cfg(host), host)
    oc = status["overcommit"]
    assert status["provisioned"] is False
    assert (oc["boot_value"], oc["boot_source"]) == ("0", f"{host.sysctl_conf}:2")
    assert oc["overrides"] == [{"file": host.sysctl_conf, "line": 2, "value": "0"}]
    assert status["problems"] == [
        f"at boot vm.overcommit_memory will be 0 ({host.sysctl_conf}:2)",
        f"{host.sysctl_conf}:2 sets vm.overcommit_memory = 0 and wins at boot (sysctl.d order): "
        "remove or change that line",
    ]


def test_a_later_sysctl_d_file_overrides_the_dropin(host):
    converge(host)
    later = os.path.join(host.sysctl_dirs[0], "99-zz-tuning.conf")
    write(later, "-vm/overcommit_memory=2\n")
    status = probe.probe(cfg(host), host)
    assert status["provisioned"] is False
    assert status["overcommit"]["boot_source"] == f"{later}:1"
    assert status["problems"][-1] == (f"{later}:1 sets vm.overcommit_memory = 2 and wins at boot "
                                      "(sysctl.d order): remove or change that line")


def test_an_earlier_file_setting_0_does_not_matter(host):
    converge(host)
    write(os.path.join(host.at("/usr/lib/sysctl.d"), "10-vendor.conf"), "vm.overcommit_memory = 0\n")
    status = probe.probe(cfg(host), host)
    assert (status["provisioned"], status["problems"]) == (True, [])


def test_boot_value_from_sysctl_conf_alone_is_enough(host):
    converge(host)
    os.unlink(host.sysctl_dropin)
    write(host.sysctl_conf, "vm.overcommit_memory=1\n")
    status = probe.probe(cfg(host), host)
    assert status["overcommit"]["boot_source"] == f"{host.sysctl_conf}:1"
    assert (status["provisioned"], status["problems"]) == (True, [])


def test_a_provisioned_host_reports_no_problems(host):
    # 99-zz.conf sets 0 after our drop-in, /etc/sysctl.conf sets 1 last: boot ends at 1,
    # the host is provisioned, and telling the operator to "remove that line" is wrong.
    converge(host)
    write(os.path.join(host.sysctl_dirs[0], "99-zz.conf"), "vm.overcommit_memory = 0\n")
    write(host.sysctl_conf, "vm.overcommit_memory = 1\n")
    status = probe.probe(cfg(host), host)
    assert status["provisioned"] is True
    assert status["problems"] == []


def test_swap_active_but_not_in_fstab(host):
    converge(host)
    write(host.fstab, "UUID=abcd / ext4 errors=remount-ro 0 1\n")
    status = probe.probe(cfg(host), host)
    assert status["provisioned"] is False
    assert (status["swap"]["file_active"], status["swap"]["persistent"]) == (True, False)
    assert status["swap"]["active"][0]["in_fstab"] is False
    assert status["problems"] == [
        "no active swap area comes back at boot (none is in /etc/fstab or made by "
        "zram-generator or zram-tools): swap will be gone after a reboot"]


@pytest.mark.parametrize("config", ["/usr/lib/systemd/zram-generator.conf", "/etc/default/zramswap"])
def test_zram_made_at_boot_counts_as_persistent(host, config):
    install_dropin(host)
    set_overcommit(host, 1)
    write(host.swaps, SWAPS_HEADER + "/dev/zram0 partition 3989500 0 100\n")
    assert probe.probe(cfg(host), host)["provisioned"] is False  # no generator: gone at boot
    write(host.at(config), "[zram0]\n")
    status = probe.probe(cfg(host), host)
    assert status["provisioned"] is True and status["problems"] == []
    assert status["swap"]["active"][0]["recreated_by"] == host.at(config)


def test_commented_out_fstab_line_does_not_count(host):
    converge(host)
    write(host.fstab, f"#{LINE.format(host.at('/swapfile'))}\n")
    assert probe.probe(cfg(host), host)["swap"]["persistent"] is False


def test_fstab_missing(host):
    converge(host)
    os.unlink(host.fstab)
    status = probe.probe(cfg(host), host)
    assert (status["provisioned"], status["swap"]["persistent"]) == (False, False)


def test_in_fstab_but_not_active(host):
    converge(host)
    write(host.swaps, SWAPS_HEADER)
    status = probe.probe(cfg(host), host)
    assert status["problems"] == ["no swap is active"]


def test_another_swap_area_in_fstab_is_enough(host):
    converge(host)
    activate(host, ("/dev/vdz2", "partition"))
    write(host.fstab, LINE.format("/dev/vdz2") + "\n")
    status = probe.probe(cfg(host), host)
    assert (status["provisioned"], status["swap"]["file_active"]) == (True, False)


def test_escaped_swap_path_in_proc_swaps_and_fstab(host):
    converge(host)
    spaced = host.at("/swap file")
    activate(host, (spaced, "file"))
    write(host.fstab, LINE.format(spaced.replace(" ", "\\040")) + "\n")
    status = probe.probe(cfg(host), host)
    assert status["swap"]["active"][0]["path"] == spaced
    assert status["provisioned"] is True


@pytest.mark.parametrize("tag,directory", [("UUID", "by-uuid"), ("LABEL", "by-label"),
                                           ("PARTUUID", "by-partuuid"),
                                           ("PARTLABEL", "by-partlabel")])
def test_tagged_fstab_specs_resolve_through_dev_disk_links(host, tag, directory):
    converge(host)
    activate(host, ("/dev/vdz2", "partition"))
    write(host.fstab, LINE.format(f"{tag}=5e6f-77") + "\n")
    link_dir = host.at(f"/dev/disk/{directory}")
    os.makedirs(link_dir)
    # Absolute target: /proc/swaps names the host's /dev/vdz2, which the link must reach.
    os.symlink("/dev/vdz2", os.path.join(link_dir, "5e6f-77"))
    status = probe.probe(cfg(host), host)
    assert status["swap"]["active"][0]["in_fstab"] is True
    assert status["provisioned"] is True


def test_tagged_spec_without_a_link_does_not_match(host):
    converge(host)
    activate(host, ("/dev/vdz2", "partition"))
    write(host.fstab, LINE.format("UUID=0000") + "\n")
    status = probe.probe(cfg(host), host)
    assert status["swap"]["persistent"] is False


def test_swap_opted_out(host):
    set_overcommit(host, 1)
    install_dropin(host)
    status = probe.probe(cfg(host, swap=False), host)
    assert status["swap"]["enabled"] is False
    assert (status["provisioned"], status["swap"]["ok"], status["problems"]) == (True, True, [])


def test_overcommit_opted_out(host):
    converge(host)
    set_overcommit(host, 0)
    os.unlink(host.sysctl_dropin)
    status = probe.probe(cfg(host, overcommit=False), host)
    assert (status["provisioned"], status["overcommit"]["ok"], status["problems"]) == (True, True, [])


def test_both_opted_out_on_a_bare_host(host):
    status = probe.probe(cfg(host, overcommit=False, swap=False), host)
    assert (status["provisioned"], status["problems"]) == (True, [])


def test_environment_overrides_reach_probe(host, tmp_path):
    from cidx_sysprep import config
    set_overcommit(host, 1)
    install_dropin(host)
    loaded = config.load(str(tmp_path / "absent.conf"), environ={"CIDX_SYSPREP_SWAP": "no"})
    assert probe.probe(loaded, host)["provisioned"] is True


def test_container_not_provisioned_says_so_last(host):
    write(host.at("/.dockerenv"), "")
    set_overcommit(host, 1)
    install_dropin(host)
    status = probe.probe(cfg(host), host)
    assert status["environment"]["container"] == "docker"
    assert status["problems"] == [
        "no swap is active",
        "running in a container (docker): the host must provide overcommit and swap"]


def test_container_provisioned_has_no_problem(host):
    converge(host)
    write(host.at("/run/systemd/container"), "lxc\n")
    status = probe.probe(cfg(host), host)
    assert (status["provisioned"], status["problems"]) == (True, [])


def test_read_only_proc_sys_is_reported(paths, monkeypatch):
    monkeypatch.setattr(environment, "proc_sys_read_only", lambda p: p is paths)
    assert probe.probe(cfg(paths), paths)["environment"]["proc_sys_read_only"] is True


# --- plan ------------------------------------------------------------------------------------

def plan_for(paths, config):
    return probe.plan(probe.probe(config, paths), config, paths)


def test_plan_on_a_converged_host_is_empty(host):
    converge(host)
    assert plan_for(host, cfg(host)) == []


def test_plan_writes_and_applies_a_missing_dropin(host):
    assert plan_for(host, cfg(host, swap=False)) == [
        f"write {host.sysctl_dropin} (vm.overcommit_memory = 1)",
        f"apply it: sysctl -p {host.sysctl_dropin}"]


def test_plan_rewrites_a_dropin_that_says_otherwise(host):
    install_dropin(host, "vm.overcommit_memory = 0\n")
    assert plan_for(host, cfg(host, swap=False)) == [
        f"write {host.sysctl_dropin} (vm.overcommit_memory = 1)",
        f"apply it: sysctl -p {host.sysctl_dropin}"]


def test_plan_only_applies_a_dropin_already_in_place(host):
    install_dropin(host)
    assert plan_for(host, cfg(host, swap=False)) == [f"apply it: sysctl -p {host.sysctl_dropin}"]


def test_plan_skips_overcommit_on_read_only_proc_sys(host, monkeypatch):
    monkeypatch.setattr(environment, "proc_sys_read_only", lambda paths: True)
    assert plan_for(host, cfg(host, swap=False)) == [
        "skip vm.overcommit_memory: /proc/sys is read-only"]


def test_plan_does_not_apply_with_sysctl_on_read_only_proc_sys(host, monkeypatch):
    # A container whose host already has 1 but no drop-in here: `sysctl -p` cannot write
    # a read-only /proc/sys, so planning (and running) it only produces a failure.
    monkeypatch.setattr(environment, "proc_sys_read_only", lambda paths: True)
    set_overcommit(host, 1)
    steps = plan_for(host, cfg(host, swap=False))
    assert f"apply it: sysctl -p {host.sysctl_dropin}" not in steps


def test_plan_nothing_for_overcommit_when_opted_out(host):
    converge(host)
    set_overcommit(host, 0)
    assert plan_for(host, cfg(host, overcommit=False)) == []


def test_plan_skips_swap_in_a_container(host):
    converge(host)
    write(host.swaps, SWAPS_HEADER)
    write(host.at("/run/.containerenv"), "")
    assert plan_for(host, cfg(host)) == ["skip swap: running in a container"]


def test_plan_adds_an_active_file_to_fstab(host):
    converge(host)
    write(host.fstab, "# empty\n")
    swapfile = host.at("/swapfile")
    assert plan_for(host, cfg(host)) == [f"add '{LINE.format(swapfile)}' to {host.fstab}"]


def test_plan_leaves_another_active_swap_area_alone(host):
    converge(host)
    activate(host, ("/dev/zram0", "partition"))
    write(host.fstab, "# no swap here\n")
    assert plan_for(host, cfg(host)) == [
        "leave swap alone: another swap area is active (not in /etc/fstab)"]


@pytest.mark.parametrize("fstype", ["tmpfs", "zfs", "overlay", "nfs4", "fuse.sshfs"])
def test_plan_refuses_a_filesystem_that_cannot_hold_swap(host, fstype):
    converge(host)
    write(host.swaps, SWAPS_HEADER)
    mounted_on(host, fstype)
    swapfile = host.at("/swapfile")
    assert plan_for(host, cfg(host)) == [
        f"refuse: {swapfile} is on {fstype} ({os.path.realpath(host.root)}), which cannot hold swap"]


def test_plan_refuses_a_file_that_is_not_swap(host):
    converge(host)
    write(host.swaps, SWAPS_HEADER)
    write(host.at("/swapfile"), "precious data\n")
    swapfile = host.at("/swapfile")
    assert plan_for(host, cfg(host)) == [f"refuse: {swapfile} exists and is not swap space"]
    with open(swapfile) as f:
        assert f.read() == "precious data\n"  # planning touches nothing


@pytest.mark.parametrize("mode", [0o600, 0o644])
def test_plan_reuses_a_valid_inactive_swap_file(host, mode):
    converge(host)
    write(host.swaps, SWAPS_HEADER)
    swapfile = host.at("/swapfile")
    swap_file(swapfile, mode=mode)
    assert plan_for(host, cfg(host)) == [
        f"reuse the inactive swap file {swapfile}: swapon {swapfile}",
        f"add '{LINE.format(swapfile)}' to {host.fstab} unless present"]


@pytest.mark.parametrize("kwargs", [{"size": 128 << 10}, {"sparse": True}])
def test_plan_recreates_a_stale_swap_file(host, kwargs):
    converge(host)
    write(host.swaps, SWAPS_HEADER)
    swapfile = host.at("/swapfile")
    swap_file(swapfile, **kwargs)
    assert plan_for(host, cfg(host)) == [
        f"remove the stale {swapfile}",
        f"create {swapfile} (64K, fallocate on ext4), chmod 600, mkswap, swapon {swapfile}",
        f"add '{LINE.format(swapfile)}' to {host.fstab} unless present"]


@pytest.mark.parametrize("fstype,how", [
    ("ext4", "fallocate"), ("xfs", "fallocate"), ("btrfs", "chattr +C and fallocate"),
    ("ext3", "dd zero-fill"), ("reiserfs", "dd zero-fill"),
])
def test_plan_creates_a_fresh_swap_file_the_filesystem_way(host, fstype, how):
    mounted_on(host, fstype)
    install_dropin(host)
    set_overcommit(host, 1)
    swapfile = host.at("/swapfile")
    assert plan_for(host, cfg(host)) == [
        f"create {swapfile} (64K, {how} on {fstype}), chmod 600, mkswap, swapon {swapfile}",
        f"add '{LINE.format(swapfile)}' to {host.fstab} unless present"]


def test_plan_whole_bare_host(host):
    swapfile = host.at("/swapfile")
    assert plan_for(host, cfg(host)) == [
        f"write {host.sysctl_dropin} (vm.overcommit_memory = 1)",
        f"apply it: sysctl -p {host.sysctl_dropin}",
        f"create {swapfile} (64K, fallocate on ext4), chmod 600, mkswap, swapon {swapfile}",
        f"add '{LINE.format(swapfile)}' to {host.fstab} unless present"]


def test_plan_with_unknown_filesystem_when_mountinfo_is_unreadable(host):
    os.unlink(host.mountinfo)
    install_dropin(host)
    set_overcommit(host, 1)
    swapfile = host.at("/swapfile")
    assert plan_for(host, cfg(host))[0] == (
        f"create {swapfile} (64K, dd zero-fill on unknown), chmod 600, mkswap, swapon {swapfile}")


def test_plan_refuses_when_the_disk_would_fill(host, monkeypatch):
    monkeypatch.setattr(environment, "disk_space", lambda directory: (512 << 20, 10 << 30))
    install_dropin(host)
    set_overcommit(host, 1)
    swapfile = host.at("/swapfile")
    # 64K plus a reserve of 5% of 10 GiB (512 MiB) needs 512 MiB and 64 KiB, 513 rounded up: 512 are free.
    assert plan_for(host, cfg(host)) == [
        f"refuse: {swapfile} needs 513 MiB free on {os.path.realpath(host.root)} (the file and a reserve); "
        "512 MiB are"]


# --- containers: judged by effective values, the host's boot is not theirs ---------------------

def test_container_with_effective_1_and_active_swap_is_provisioned(host):
    write(host.at("/.dockerenv"), "")
    set_overcommit(host, 1)
    activate(host, ("/dev/vdz2", "partition"))  # the host's swap, in no fstab here
    status = probe.probe(cfg(host), host)
    assert (status["overcommit"]["ok"], status["swap"]["ok"]) == (True, True)
    assert (status["provisioned"], status["problems"]) == (True, [])


def test_container_ignores_its_own_sysctl_files_for_boot(host):
    # The container's /etc/sysctl.conf is never applied at the host's boot: it neither
    # makes the container unprovisioned nor is it a line to "remove" there.
    write(host.at("/run/systemd/container"), "lxc\n")
    set_overcommit(host, 1)
    install_dropin(host)
    write(host.sysctl_conf, "vm.overcommit_memory = 0\n")
    activate(host, ("/dev/vdz2", "partition"))
    status = probe.probe(cfg(host), host)
    assert status["provisioned"] is True
    assert status["problems"] == []


def test_container_with_effective_0_names_the_host(host):
    write(host.at("/run/systemd/container"), "lxc\n")
    status = probe.probe(cfg(host), host)
    assert status["provisioned"] is False
    assert status["problems"] == [
        "vm.overcommit_memory is 0, not 1: fork() of a process with large mappings can fail "
        "with ENOMEM",
        "no swap is active",
        "running in a container (lxc): the host must provide overcommit and swap"]


def test_plan_in_a_container_skips_both(host):
    write(host.at("/run/systemd/container"), "lxc\n")
    assert plan_for(host, cfg(host)) == ["skip vm.overcommit_memory: running in a container (lxc)",
                                         "skip swap: running in a container"]
