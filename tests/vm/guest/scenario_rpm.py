#!/usr/bin/python3
"""Scenario 5 in one boot (tests/vm/test_rpm.py): the RPM's scriptlets, run for real.

Debian's rpm installs the package into its own (empty) database; --nodeps because no
RPM base system (python3, procps-ng, util-linux as RPM packages) exists here. The
Debian guest provides the real python3, sysctl and util-linux the scriptlets call.
"""
import sys

sys.path.insert(0, "/vmtest")
from vmlib import report, run, snapshot, status_json, verify  # noqa: E402

RPM = "/srv/cidx-sysprep.noarch.rpm"

if __name__ == "__main__":
    report("before", snapshot())
    installed = run(["rpm", "-i", "--nodeps", RPM])
    report("rpm_install", {
        "rc": installed["rc"], "output": installed["out"] + installed["err"],
        "query": run(["rpm", "-q", "cidx-sysprep"])["out"].strip(),
        "snapshot": snapshot(), "verify": verify(), "status": status_json()})
    erased = run(["rpm", "-e", "--nodeps", "cidx-sysprep"])
    report("rpm_erase", {
        "rc": erased["rc"], "output": erased["out"] + erased["err"],
        "query_rc": run(["rpm", "-q", "cidx-sysprep"])["rc"], "snapshot": snapshot()})
