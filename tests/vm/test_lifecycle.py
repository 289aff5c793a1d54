"""Scenarios 1-4 on one Debian 12 machine (guest side: guest/scenario_lifecycle.py).

boot 1: ENOMEM reproduced, the auto-updater fixes it; fresh install verified;
        idempotent re-run and reinstall.
boot 2: the reboot: verify.sh again; apt-get remove; apt-get purge.
boot 3: the next boot is clean.
"""
import pytest

from tests.vm import expect
from tests.vm.conftest import record
from tests.vm.harness import REPO

SCENARIO = "python3 /vmtest/scenario_lifecycle.py %d"
ENOMEM = 12


@pytest.fixture(scope="module")
def vm(machine_factory, dist):
    return machine_factory(
        "lifecycle", [SCENARIO % n for n in (1, 2, 3)],
        {"/srv/cidx-apt": dist["apt"],
         "/etc/apt/sources.list.d/cidx-local.list": b"deb [trusted=yes] file:/srv/cidx-apt ./\n",
         "/opt/cidx-sysprep-src/cidx_sysprep": REPO / "cidx_sysprep"})


def _fork_line(p):
    def show(o):
        return "ok" if o["ok"] else "errno %s" % o["errno"]
    return ("pid %d, python %s, mapping %d MiB > RAM %d MiB + swap %d MiB, overcommit %d: "
            "os.fork() %s; subprocess.run(['true']) forking as Python 3.9 does %s; "
            "subprocess.run default (3.11 vfork) %s" % (
                p["pid"], p["python"], p["mapping_bytes"] >> 20, p["mem_total_bytes"] >> 20,
                p["swap_total_bytes"] >> 20, p["overcommit_memory"], show(p["os_fork"]),
                show(p["subprocess_run_forking_like_py39"]),
                show(p["subprocess_run_default_vfork"])))


def test_enomem_reproduced_then_fixed_by_the_auto_updater(vm):
    r = vm.boot(1)
    assert (r["before"]["overcommit_memory"], r["before"]["swaps"]) == (0, [])
    assert (r["stand_in"]["setup_rc"], r["stand_in"]["start_rc"]) == (0, 0), r["stand_in"]

    for name, p in r["probe_before"].items():
        record("1 ENOMEM", "before, %s: %s" % (name, _fork_line(p)))
        assert p["overcommit_memory"] == 0 and p["swap_total_bytes"] == 0
        assert p["mapping_bytes"] > p["mem_total_bytes"] + p["swap_total_bytes"]
        # The reproduction: a fork charges the whole private mapping again.
        assert p["os_fork"]["errno"] == ENOMEM, p
        assert p["subprocess_run_forking_like_py39"]["errno"] == ENOMEM, p
        # Why the stand-in must fork like 3.9: 3.11's vfork path is not charged.
        assert p["subprocess_run_default_vfork"]["ok"] is True, p

    update = r["auto_update_1"]
    record("1 ENOMEM", "auto-updater (run_once: git pull, pip install, apt-get install "
           "cidx-sysprep, Steps 9-10, restart) exit %d in %.1f s" % (update["rc"], update["seconds"]))
    assert update["rc"] == 0, update["log"]
    before, after = r["deployment_before"], r["deployment_after"]
    record("1 ENOMEM", "checkout %s -> %s (origin %s); venv release %s -> %s; package %r; "
           "server pid %s -> %s (restarted); bystander pid %s -> %s" % (
               before["checkout_head"][:8], after["checkout_head"][:8], after["origin_head"][:8],
               before["venv_release"], after["venv_release"], after["package"],
               before["server_pid"], after["server_pid"], before["bystander_pid"],
               after["bystander_pid"]))
    assert before["checkout_head"] != before["origin_head"]
    assert after["checkout_head"] == after["origin_head"]
    assert (before["venv_release"], after["venv_release"]) == ("1", "2")
    assert before["package"] == "not-known" and after["package"].startswith("ii ")
    assert after["server_pid"] != before["server_pid"]
    assert after["bystander_pid"] == before["bystander_pid"]

    for name, p in r["probe_after"].items():
        record("1 ENOMEM", "after, %s: %s" % (name, _fork_line(p)))
        assert p["overcommit_memory"] == 1
        assert p["swap_total_bytes"] == expect.SWAP_KIB * 1024
        assert p["os_fork"]["ok"] and p["subprocess_run_forking_like_py39"]["ok"], p
        assert p["subprocess_run_default_vfork"]["ok"], p
    # The same still-running process, whose fork failed before, now forks.
    assert r["probe_after"]["bystander"]["pid"] == r["probe_before"]["bystander"]["pid"]
    assert r["probe_after"]["bystander"]["mapping_bytes"] == \
        r["probe_before"]["bystander"]["mapping_bytes"]


def test_fresh_install_provisions_the_host(vm):
    r = vm.boot(1)
    v = r["verify_before_reboot"]
    record("2 fresh install", "verify.sh before reboot: exit %d; %s" % (
        v["rc"], "; ".join(line[len("verify: "):] for line in v["out"].splitlines()
                           if line.startswith("verify: ok") or "FAIL" in line)))
    assert v["rc"] == 0, v["out"]
    assert v["out"].rstrip().endswith("verify: PASS")
    snap = r["idempotent"]["first"]
    expect.provisioned(snap)
    assert sorted(snap["state_record"].splitlines()) == sorted([
        "swapfile\t/swapfile", "fstab\t" + expect.FSTAB_LINE, "overcommit-before\t0"])
    doc = expect.status_matches(r["status_before_reboot"], snap)
    assert doc["provisioned"] is True and r["status_before_reboot"]["rc"] == 0


def test_second_execute_and_reinstall_write_nothing(vm):
    idem = vm.boot(1)["idempotent"]
    first, after_execute, after_reinstall = (idem["first"], idem["after_execute"],
                                             idem["after_reinstall"])
    for name in ("fstab_facts", "swapfile"):
        record("3 idempotent", "%s: inode %s mtime_ns %s ctime_ns %s sha256 %s | after execute "
               "%s | after reinstall %s" % (
                   name, first[name]["inode"], first[name]["mtime_ns"], first[name]["ctime_ns"],
                   (first[name].get("sha256") or first[name].get("head_sha256"))[:16],
                   "unchanged" if expect.unchanged(first[name], after_execute[name]) else "CHANGED",
                   "unchanged" if expect.unchanged(first[name], after_reinstall[name]) else "CHANGED"))
        assert expect.unchanged(first[name], after_execute[name])
        assert expect.unchanged(first[name], after_reinstall[name])
    for snap in (after_execute, after_reinstall):
        assert (snap["swaps"], snap["state_record"], snap["fstab"]) == \
            (first["swaps"], first["state_record"], first["fstab"])
        assert snap["dropin_facts"]["sha256"] == first["dropin_facts"]["sha256"]

    execute = idem["execute"]
    assert execute["rc"] == 0, execute["log"]
    steps = [rec for rec in expect.log_records(execute["log"])
             if rec[1] in expect.HOST_STEP_LOGGERS]
    record("3 idempotent", "second execute(): exit %d; Steps 9-10 logged %s" % (
        execute["rc"], ["%s %s: %s" % rec for rec in steps]))
    assert {rec[1] for rec in steps} >= {"cidx_sysprep.overcommit", "cidx_sysprep.swap"}
    assert {rec[0] for rec in steps} == {"DEBUG"}
    assert idem["reinstall_rc"] == 0, idem["reinstall_output"]
    assert "DEPLOY-GENERAL" not in idem["reinstall_output"]


def test_reboot_keeps_everything(vm):
    r = vm.boot(2)["after_reboot"]
    v = r["verify"]
    record("2 fresh install", "verify.sh after reboot: exit %d; status exit %d" % (
        v["rc"], r["status"]["rc"]))
    assert v["rc"] == 0, v["out"]
    expect.provisioned(r["snapshot"])
    assert expect.status_matches(r["status"], r["snapshot"])["provisioned"] is True
    assert r["status"]["rc"] == 0


def test_remove_keeps_the_host_working(vm):
    r = vm.boot(2)["after_remove"]
    snap = r["snapshot"]
    record("4 remove/purge", "apt-get remove: exit %d, package %r, overcommit %d, swaps %s, "
           "drop-in kept %s" % (r["rc"], r["package"], snap["overcommit_memory"], snap["swaps"],
                                snap["dropin"] == expect.SHIPPED_DROPIN))
    assert r["rc"] == 0, r["output"]
    assert r["package"].startswith("rc ")  # removed, configuration files kept
    expect.provisioned(snap)


def test_purge_undoes_what_the_package_created(vm):
    r = vm.boot(2)["after_purge"]
    snap = r["snapshot"]
    record("4 remove/purge", "apt-get purge: exit %d, package %r, swaps %s, /swapfile exists "
           "%s, fstab == original %s, drop-in %s, state record %s; running value %d until "
           "reboot (design: reported, not restored)" % (
               r["rc"], r["package"], snap["swaps"], snap["swapfile"]["exists"],
               snap["fstab"] == expect.ORIGINAL_FSTAB, snap["dropin"], snap["state_record"],
               snap["overcommit_memory"]))
    assert r["rc"] == 0, r["output"]
    assert r["package"] == "not-known" or r["package"].startswith("un ")
    expect.clean(snap, overcommit=1)
    assert r["config"] is None


def test_next_boot_after_purge_is_clean(vm):
    r = vm.boot(3)["clean_boot"]
    snap = r["snapshot"]
    record("4 remove/purge", "after reboot: overcommit %d, swaps %s, fstab == original %s" % (
        snap["overcommit_memory"], snap["swaps"], snap["fstab"] == expect.ORIGINAL_FSTAB))
    expect.clean(snap, overcommit=0)
    assert r["config"] is None
