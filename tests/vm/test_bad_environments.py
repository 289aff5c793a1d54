"""Scenario 6: hosts where a new /swapfile cannot or must not be made (guest side:
guest/scenario_bad_env.py, one boot, a 1 GiB second disk /dev/vdb for the swap
partition). The package operation succeeds, nothing is lost, status tells the truth."""
import pytest

from tests.vm import expect
from tests.vm.conftest import record

APT_SOURCE = b"deb [trusted=yes] file:/srv/cidx-apt ./\n"


@pytest.fixture(scope="module")
def vm(machine_factory, dist):
    return machine_factory(
        "bad-env", ["python3 /vmtest/scenario_bad_env.py"],
        {"/srv/cidx-apt": dist["apt"], "/etc/apt/sources.list.d/cidx-local.list": APT_SOURCE},
        extra_disks={"swapdisk": "1G"})


def _status_line(status):
    doc = status["json"] or {}
    return "status exit %d, provisioned %s, problems %s" % (
        status["rc"], doc.get("provisioned"), doc.get("problems"))


def test_inactive_swapfile_that_is_not_swap_is_left_alone(vm):
    r = vm.boot(1)
    before = r["not_swap_before"]["swapfile"]
    install, purge = r["not_swap"]["install"], r["not_swap"]["purge"]
    record("6 bad env", "/swapfile holding 8 MiB of data (sha256 %s): apt-get install exit %d; "
           "after: sha256 %s, swaps %s; %s; after purge sha256 %s" % (
               before["sha256"][:16], install["rc"], install["swapfile"]["sha256"][:16],
               install["snapshot"]["swaps"], _status_line(install["status"]),
               purge["swapfile"]["sha256"][:16]))
    assert before["exists"] and not before["swap_signature"]
    assert install["rc"] == 0, install["output"]
    assert install["package"].startswith("ii ")
    assert expect.unchanged(before, install["swapfile"])  # nothing lost
    assert expect.unchanged(before, purge["swapfile"])
    snap = install["snapshot"]
    assert (snap["swaps"], snap["fstab_swapfile_entries"]) == ([], [])
    assert snap["overcommit_memory"] == 1  # the other half still done
    doc = expect.status_matches(install["status"], snap)
    assert (install["status"]["rc"], doc["provisioned"], doc["swap"]["ok"]) == (1, False, False)
    assert "DEPLOY-GENERAL-111" in install["output"]
    assert purge["rc"] == 0


def test_inactive_swap_area_at_swapfile_is_reused_not_recreated(vm):
    r = vm.boot(1)
    before = r["inactive_swap_before"]["swapfile"]
    install, purge = r["inactive_swap"]["install"], r["inactive_swap"]["purge"]
    snap = install["snapshot"]
    record("6 bad env", "inactive mkswap'd /swapfile (inode %s, header sha256 %s): apt-get "
           "install exit %d; after: inode %s, header %s, swaps %s, fstab %s; %s; after purge: "
           "exists %s, inode %s, fstab entries %s" % (
               before["inode"], before["head_sha256"][:16], install["rc"],
               install["swapfile"]["inode"], install["swapfile"]["head_sha256"][:16],
               snap["swaps"], snap["fstab_swapfile_entries"], _status_line(install["status"]),
               purge["swapfile"]["exists"], purge["swapfile"].get("inode"),
               purge["snapshot"]["fstab_swapfile_entries"]))
    assert r["inactive_swap_before"]["rc"] == 0 and before["swap_signature"]
    assert install["rc"] == 0, install["output"]
    # Reused as it was: same inode, same header (a new mkswap would write a new UUID).
    assert expect.unchanged(before, install["swapfile"])
    assert snap["swaps"] == [{"name": "/swapfile", "type": "file", "size_kib": expect.SWAP_KIB}]
    assert snap["fstab_swapfile_entries"] == [expect.FSTAB_LINE]
    doc = expect.status_matches(install["status"], snap)
    assert (install["status"]["rc"], doc["provisioned"]) == (0, True)
    assert purge["rc"] == 0
    # The purge removes only what the package created: the fstab line, not the file.
    assert expect.unchanged(before, purge["swapfile"])
    assert purge["snapshot"]["fstab"] == expect.ORIGINAL_FSTAB


def test_no_space_for_the_swapfile(vm):
    r = vm.boot(1)
    before = r["no_space_before"]
    install, purge = r["no_space"]["install"], r["no_space"]["purge"]
    record("6 bad env", "/ with %d MiB free: apt-get install exit %d; after: /swapfile exists "
           "%s, swaps %s, %d MiB free; %s" % (
               before["free_bytes"] >> 20, install["rc"],
               install["snapshot"]["swapfile"]["exists"], install["snapshot"]["swaps"],
               install["free_bytes"] >> 20, _status_line(install["status"])))
    assert before["fallocate_rc"] == 0 and before["free_bytes"] < expect.SWAP_BYTES
    assert install["rc"] == 0, install["output"]
    assert install["package"].startswith("ii ")
    snap = install["snapshot"]
    assert snap["swapfile"] == {"exists": False}  # no partial file left behind
    assert (snap["swaps"], snap["fstab_swapfile_entries"]) == ([], [])
    assert snap["overcommit_memory"] == 1
    assert expect.unchanged(before["filler"], install["filler"])
    # The package's own files take a little; the swap file took nothing.
    assert before["free_bytes"] - install["free_bytes"] < 16 << 20
    doc = expect.status_matches(install["status"], snap)
    assert (install["status"]["rc"], doc["provisioned"], doc["swap"]["ok"]) == (1, False, False)
    assert "DEPLOY-GENERAL-110" in install["output"]
    assert purge["rc"] == 0


def test_swap_already_present_elsewhere(vm):
    r = vm.boot(1)
    before = r["swap_elsewhere_before"]
    install, purge = r["swap_elsewhere"]["install"], r["swap_elsewhere"]["purge"]
    snap = install["snapshot"]
    record("6 bad env", "/dev/vdb active swap in fstab: apt-get install exit %d; after: swaps "
           "%s, /swapfile exists %s; %s; after purge swaps %s, fstab unchanged %s" % (
               install["rc"], snap["swaps"], snap["swapfile"]["exists"],
               _status_line(install["status"]), purge["snapshot"]["swaps"],
               purge["snapshot"]["fstab"] == before["snapshot"]["fstab"]))
    assert (before["mkswap_rc"], before["swapon_rc"]) == (0, 0)
    vdb = before["snapshot"]["swaps"]
    assert [s["name"] for s in vdb] == ["/dev/vdb"]
    assert install["rc"] == 0, install["output"]
    assert snap["swaps"] == vdb
    assert snap["swapfile"] == {"exists": False}
    assert snap["fstab"] == before["snapshot"]["fstab"]
    assert snap["overcommit_memory"] == 1
    doc = expect.status_matches(install["status"], snap)
    assert (install["status"]["rc"], doc["provisioned"]) == (0, True)
    assert purge["rc"] == 0
    assert purge["snapshot"]["swaps"] == vdb
    assert purge["snapshot"]["fstab"] == before["snapshot"]["fstab"]
