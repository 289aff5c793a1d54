#!/usr/bin/python3
"""Scenario 5 in one boot (tests/vm/test_rpm.py): the RPM's scriptlets, run for real.

Debian's rpm installs the package into its own (empty) database; --nodeps because no
RPM base system (python3, procps-ng, util-linux as RPM packages) exists here. The
Debian guest provides the real python3, sysctl and util-linux the scriptlets call.
"""
import re
import sys

sys.path.insert(0, "/vmtest")
from vmlib import report, run, snapshot, status_json, verify  # noqa: E402

RPM = "/srv/cidx-sysprep.noarch.rpm"
SITE = re.compile(r"^/usr/lib(64)?/python3\.\d+/site-packages")


def foreign_site_packages():
    """Make a payload built for another python (RHEL 9: 3.9) importable here.

    An RPM for RHEL 9 puts the module in /usr/lib/python3.9/site-packages, which
    Debian's python 3.11 does not search; a .pth file adds it, standing in for RHEL's
    interpreter. Returns the directories added (none for a payload in a path this
    python already searches).
    """
    listing = run(["rpm", "-qlp", RPM], quiet=True)["out"].splitlines()
    report("payload_module", [p for p in listing if p.endswith("/cidx_sysprep/__init__.py")])
    here = "python%d.%d" % sys.version_info[:2]
    dirs = sorted({m.group(0) for m in map(SITE.match, listing) if m and here not in m.group(0)})
    if dirs:
        with open("/usr/lib/python3/dist-packages/zz-cidx-vmtest-rhel-site.pth", "w") as f:
            f.write("".join(d + "\n" for d in dirs))
    return dirs


if __name__ == "__main__":
    report("before", snapshot())
    report("payload_python_dirs_added", foreign_site_packages())
    installed = run(["rpm", "-i", "--nodeps", RPM])
    report("rpm_install", {
        "rc": installed["rc"], "output": installed["out"] + installed["err"],
        "query": run(["rpm", "-q", "cidx-sysprep"])["out"].strip(),
        "snapshot": snapshot(), "verify": verify(), "status": status_json()})
    erased = run(["rpm", "-e", "--nodeps", "cidx-sysprep"])
    report("rpm_erase", {
        "rc": erased["rc"], "output": erased["out"] + erased["err"],
        "query_rc": run(["rpm", "-q", "cidx-sysprep"])["rc"], "snapshot": snapshot()})
