"""The .deb's maintainer scripts, run for real by dpkg and apt in a throwaway root."""
import os
import shutil
import stat

import pytest

from tests.packaging.conftest import CHROOT_PATH, DIST, FSTAB, REPO, SWAPS_HEADER, fresh_root, sha256

FSTAB_LINE = b"/swapfile none swap sw 0 0\n"
DROPIN = "/etc/sysctl.d/99-cidx-memory.conf"
STATE = "/var/lib/cidx-sysprep/created"
PROVISION_FAILED = ("cidx-sysprep: the package is installed, but the host is not fully "
                    "provisioned (see above); run 'cidx-sysprep status'")


def snapshot(root, result):
    """What a stage left behind, read from the throwaway root."""
    swapfile = root / "/swapfile"
    state = root / STATE
    dropin = root / DROPIN
    facts = {
        "result": result,
        "fstab": (root / "/etc/fstab").read_bytes(),
        "overcommit": root.overcommit(),
        "swaps": root.swaps(),
        "commands": root.commands(),
        "state": state.read_text() if state.exists() else None,
        "state_dir": (root / "/var/lib/cidx-sysprep").exists(),
        "dropin": dropin.read_text() if dropin.exists() else None,
        "swapfile": None,
    }
    if swapfile.exists():
        st = swapfile.stat()
        with open(swapfile, "rb") as f:
            header = f.read(4096)
        facts["swapfile"] = {"mode": stat.S_IMODE(st.st_mode), "size": st.st_size,
                             "mtime_ns": st.st_mtime_ns, "signature": header[4086:4096],
                             "sha256": sha256(swapfile)}
    return facts


@pytest.fixture(scope="module")
def lifecycle(template_root, tmp_path_factory, deb):
    """install -> reinstall -> remove -> purge of the .deb, with what each left behind."""
    with fresh_root(template_root, tmp_path_factory) as root:
        package = root.copy_in(deb)
        stages = {}
        for stage, argv in (("install", ["dpkg", "-i", package]),
                            ("reinstall", ["dpkg", "-i", package]),
                            ("remove", ["dpkg", "-r", "cidx-sysprep"]),
                            ("purge", ["dpkg", "-P", "cidx-sysprep"])):
            stages[stage] = snapshot(root, root.run(*argv))
        yield stages


def test_install_applies_the_setting_from_the_shipped_dropin(lifecycle):
    install = lifecycle["install"]
    assert install["result"].returncode == 0, install["result"].stderr
    assert install["dropin"] == (REPO / "conf/99-cidx-memory.conf").read_text()
    assert install["overcommit"] == "1\n"
    assert "sysctl -p /etc/sysctl.d/99-cidx-memory.conf" in install["commands"]


def test_install_adds_one_fstab_line_and_keeps_the_others_byte_for_byte(lifecycle):
    assert lifecycle["install"]["fstab"] == FSTAB + FSTAB_LINE


def test_install_creates_an_active_swap_file(lifecycle):
    install = lifecycle["install"]
    swapfile = install["swapfile"]
    assert swapfile["mode"] == 0o600
    assert swapfile["size"] == 4 << 30
    assert swapfile["signature"] == b"SWAPSPACE2"
    assert install["swaps"] == SWAPS_HEADER + "/swapfile\t\t\t\tfile\t\t4194300\t\t0\t\t-2\n"


def test_install_records_what_it_created_and_not_the_shipped_dropin(lifecycle):
    assert lifecycle["install"]["state"] == (
        "overcommit-before\t0\nswapfile\t/swapfile\nfstab\t/swapfile none swap sw 0 0\n")


def test_reinstall_on_a_provisioned_host_changes_nothing(lifecycle):
    install, reinstall = lifecycle["install"], lifecycle["reinstall"]
    assert reinstall["result"].returncode == 0, reinstall["result"].stderr
    assert reinstall["fstab"] == install["fstab"]
    assert reinstall["swapfile"] == install["swapfile"]  # same bytes, same mtime
    assert reinstall["state"] == install["state"]
    assert reinstall["commands"] == install["commands"]  # not one sysctl or swapon call


def test_remove_keeps_swap_fstab_line_setting_and_dropin(lifecycle):
    install, remove = lifecycle["install"], lifecycle["remove"]
    assert remove["result"].returncode == 0, remove["result"].stderr
    assert remove["swapfile"] == install["swapfile"]
    assert remove["swaps"] == install["swaps"]
    assert remove["fstab"] == install["fstab"]
    assert remove["dropin"] == install["dropin"]  # a conffile: only purge deletes it
    assert remove["overcommit"] == "1\n"
    assert remove["state"] == install["state"]
    assert remove["result"].stderr == (
        "cidx-sysprep: swap and vm.overcommit_memory stay in place; purging the package "
        "undoes what cidx-sysprep created\n")


def test_purge_undoes_exactly_what_was_created(lifecycle):
    purge = lifecycle["purge"]
    assert purge["result"].returncode == 0, purge["result"].stderr
    assert purge["result"].stderr == ""
    assert purge["commands"][-1] == "swapoff /swapfile"
    assert purge["swaps"] == SWAPS_HEADER
    assert purge["swapfile"] is None
    assert purge["fstab"] == FSTAB  # the commented-out swap line survives too
    assert purge["dropin"] is None
    assert purge["state_dir"] is False
    assert purge["overcommit"] == "1\n"  # reported in the record, never restored


def test_a_failed_provision_warns_with_its_code_and_still_installs(root, deb):
    (root / "/etc/fake-swapon-fails").touch()
    result = root.run("dpkg", "-i", root.copy_in(deb))
    assert result.returncode == 0, result.stderr
    errors = result.stderr.splitlines()
    assert any(line.startswith("cidx-sysprep: ERROR DEPLOY-GENERAL-096: ")
               and "Operation not permitted" in line for line in errors), errors
    assert errors[-1] == PROVISION_FAILED
    status = root.run("dpkg-query", "-W", "-f=${Status}", "cidx-sysprep")
    assert status.stdout == "install ok installed"
    assert not (root / "/swapfile").exists()  # the incomplete file is cleaned up
    assert (root / "/etc/fstab").read_bytes() == FSTAB
    assert root.overcommit() == "1\n"  # the part that could be done was done


def test_a_purge_leaves_a_swap_file_it_cannot_turn_off(root, deb):
    assert root.run("dpkg", "-i", root.copy_in(deb)).returncode == 0
    busy = root / "/usr/local/sbin/swapoff"  # the kernel cannot page the swap back in
    busy.write_text('#!/bin/sh\necho "swapoff: $1: swapoff failed: Cannot allocate memory" >&2\n'
                    'exit 1\n')
    result = root.run("dpkg", "-P", "cidx-sysprep")
    assert result.returncode == 0, result.stderr
    assert "cidx-sysprep: purge: could not turn off /swapfile; left it and its /etc/fstab line" \
        in result.stderr
    assert (root / "/swapfile").exists()
    assert (root / "/etc/fstab").read_bytes() == FSTAB + FSTAB_LINE
    assert not (root / "/var/lib/cidx-sysprep").exists()


def test_apt_get_installs_from_the_local_repository_without_a_prompt(root):
    shutil.copytree(DIST / "apt", root / "/srv/apt")
    os.remove(root / "/etc/apt/sources.list")
    for extra in (root / "/etc/apt/sources.list.d").iterdir():
        extra.unlink()
    (root / "/etc/apt/sources.list").write_text("deb [trusted=yes] file:/srv/apt ./\n")
    update = root.run("apt-get", "update", timeout=120)
    assert update.returncode == 0, update.stdout + update.stderr
    # stdin closed, noninteractive, and a timeout: a prompt would fail the test, not hang it.
    # apt runs dpkg with its own PATH (DPkg::Path), which leaves out the fakes'
    # /usr/local/sbin: put it back (the real tools in the root only refuse).
    install = root.run("apt-get", "install", "-y", "-o", f"DPkg::Path={CHROOT_PATH}",
                       "cidx-sysprep", timeout=120)
    assert install.returncode == 0, install.stdout + install.stderr
    assert "Setting up cidx-sysprep" in install.stdout
    assert root.overcommit() == "1\n"
    assert (root / "/etc/fstab").read_bytes() == FSTAB + FSTAB_LINE
