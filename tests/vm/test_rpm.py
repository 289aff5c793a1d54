"""Scenario 5: the RPM's scriptlets run for real (guest side: guest/scenario_rpm.py).

Debian's rpm, `rpm -i --nodeps` (no RPM base system exists on Debian), one boot."""
import pytest

from tests.vm import expect
from tests.vm.conftest import record


@pytest.fixture(scope="module")
def vm(machine_factory, dist):
    return machine_factory("rpm", ["python3 /vmtest/scenario_rpm.py"],
                           {"/srv/cidx-sysprep.noarch.rpm": dist["rpm"]})


def test_rpm_post_scriptlet_provisions_the_host(vm):
    r = vm.boot(1)
    assert (r["before"]["overcommit_memory"], r["before"]["swaps"]) == (0, [])
    install = r["rpm_install"]
    record("5 rpm", "payload module %s; site dirs added for this python by a .pth: %s" % (
        r["payload_module"], r["payload_python_dirs_added"] or "none"))
    record("5 rpm", "rpm -i --nodeps: exit %d, %s; verify.sh exit %d; status exit %d" % (
        install["rc"], install["query"], install["verify"]["rc"], install["status"]["rc"]))
    assert install["rc"] == 0, install["output"]
    assert install["query"].startswith("cidx-sysprep-")
    expect.provisioned(install["snapshot"])
    assert install["verify"]["rc"] == 0, install["verify"]["out"]
    doc = expect.status_matches(install["status"], install["snapshot"])
    assert (install["status"]["rc"], doc["provisioned"]) == (0, True)


def test_rpm_erase_keeps_swap_and_setting(vm):
    erase = vm.boot(1)["rpm_erase"]
    snap = erase["snapshot"]
    record("5 rpm", "rpm -e: exit %d, rpm -q exit %d; swaps %s, overcommit %d, fstab entries %s "
           "(%%preun keeps them: rpm has no purge)" % (
               erase["rc"], erase["query_rc"], snap["swaps"], snap["overcommit_memory"],
               snap["fstab_swapfile_entries"]))
    assert erase["rc"] == 0, erase["output"]
    assert erase["query_rc"] != 0
    assert snap["swaps"] == [{"name": "/swapfile", "type": "file", "size_kib": expect.SWAP_KIB}]
    assert snap["fstab_swapfile_entries"] == [expect.FSTAB_LINE]
    assert snap["overcommit_memory"] == 1
