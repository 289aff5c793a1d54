#!/usr/bin/python3
"""Scenario 6 in one boot (tests/vm/test_bad_environments.py): three hosts cidx-sysprep
cannot or must not give a new /swapfile, one after the other, each installed with
apt-get and purged before the next is set up.

not_swap:       /swapfile exists, inactive, and holds data that is not swap space
inactive_swap:  /swapfile is a 4 GiB swap area (mkswap'd), inactive, not in fstab
no_space:       / has too little free space for a 4 GiB swap file
swap_elsewhere: /dev/vdb is active swap and in /etc/fstab; no /swapfile

For each: the apt-get install exit code, the host state and `cidx-sysprep status --json`
after it, and the state after the purge. The host-side test asserts that the package
operation succeeded, nothing was lost, and status told the truth.
"""
import os
import sys

sys.path.insert(0, "/vmtest")
from vmlib import (FSTAB, SWAPFILE, file_facts, package_state, read, report, run,  # noqa: E402
                   snapshot, status_json)

APT = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-y", "-q"]
FILLER = "/var/tmp/filler"


def install_and_purge(name, extra=None):
    installed = run(APT + ["install", "cidx-sysprep"])
    after_install = {"rc": installed["rc"], "output": installed["out"] + installed["err"],
                     "snapshot": snapshot(), "status": status_json(),
                     "package": package_state()}
    after_install.update(extra() if extra else {})
    purged = run(APT + ["purge", "cidx-sysprep"])
    report(name, {"install": after_install,
                  "purge": {"rc": purged["rc"], "snapshot": snapshot(),
                            **(extra() if extra else {})}})


def free_bytes(path="/"):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def not_swap():
    with open(SWAPFILE, "wb") as f:  # 8 MiB an operator cares about, not a swap area
        for i in range(8):
            f.write(bytes([i + 1]) * (1 << 20))
    os.chmod(SWAPFILE, 0o644)
    report("not_swap_before", {"swapfile": file_facts(SWAPFILE), "fstab": read(FSTAB)})
    install_and_purge("not_swap", lambda: {"swapfile": file_facts(SWAPFILE)})
    os.unlink(SWAPFILE)


def inactive_swap():
    made = run("fallocate -l 4G %s && chmod 600 %s && mkswap %s" % ((SWAPFILE,) * 3))
    report("inactive_swap_before", {"rc": made["rc"],
                                    "swapfile": file_facts(SWAPFILE, full_hash=False)})
    install_and_purge("inactive_swap",
                      lambda: {"swapfile": file_facts(SWAPFILE, full_hash=False)})
    if os.path.exists(SWAPFILE):  # the purge leaves a file the package did not create
        run(["swapoff", SWAPFILE])
        os.unlink(SWAPFILE)


def no_space():
    # Leave 1 GiB free: less than the 4 GiB file, so provisioning must refuse.
    filler_size = free_bytes() - (1 << 30)
    fill = run(["fallocate", "-l", str(filler_size), FILLER])
    report("no_space_before", {"fallocate_rc": fill["rc"], "free_bytes": free_bytes(),
                               "filler": file_facts(FILLER, full_hash=False)})
    install_and_purge("no_space", lambda: {"free_bytes": free_bytes(),
                                           "filler": file_facts(FILLER, full_hash=False)})
    os.unlink(FILLER)


def swap_elsewhere():
    made = run(["mkswap", "/dev/vdb"])
    on = run(["swapon", "/dev/vdb"])
    with open(FSTAB, "a") as f:
        f.write("/dev/vdb none swap sw 0 0\n")
    report("swap_elsewhere_before", {"mkswap_rc": made["rc"], "swapon_rc": on["rc"],
                                     "snapshot": snapshot()})
    install_and_purge("swap_elsewhere")


if __name__ == "__main__":
    report("apt_update", run(APT + ["update"])["rc"])
    report("before", snapshot())
    not_swap()
    inactive_swap()
    no_space()
    swap_elsewhere()
