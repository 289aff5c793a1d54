#!/usr/bin/python3
"""Scenarios 1-4 on one Debian 12 machine, three boots (tests/vm/test_lifecycle.py).

boot 1: ENOMEM reproduced in the stand-in server; the auto-updater (git pull, pip
        install, apt-get install cidx-sysprep from the local repository, Steps 9-10,
        restart); the same still-running process forks; verify.sh; then a second
        execute() and an apt-get install --reinstall, with snapshots around each.
boot 2: after the reboot: verify.sh and status; apt-get remove; apt-get purge.
boot 3: after the next reboot: the clean host.
"""
import sys
import time

sys.path.insert(0, "/vmtest")
from vmlib import (package_state, read, report, run, snapshot, status_json,  # noqa: E402
                   verify)

CHECKOUT = "/opt/cidx-server"
ORIGIN = "/srv/cidx-origin.git"
VENV = "/opt/cidx-venv"
SOURCE = "/opt/cidx-sysprep-src"  # the project's cidx_sysprep/, for the updater itself
AUTO_UPDATE = ["python3", "-m", "cidx_sysprep.auto_update.run_once", "--checkout", CHECKOUT,
               "--venv", VENV, "--service", "cidx-server", "--verbose"]
APT = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-y", "-q"]
PROCESSES = {"server": "/run/cidx-server.sock", "bystander": "/run/cidx-bystander.sock"}


def probe(socket):
    import json
    result = run(["python3", CHECKOUT + "/stand_in_server.py", "probe", "--socket", socket])
    return json.loads(result["out"]) if result["rc"] == 0 else {"probe_rc": result["rc"],
                                                                 "probe_err": result["err"]}


def probes():
    return {name: probe(socket) for name, socket in PROCESSES.items()}


def deployment():
    """What the deployment is about: git revisions, the venv's release, unit PIDs."""
    def out(argv):
        return run(argv, quiet=True)["out"].strip()
    return {
        "checkout_head": out(["git", "-C", CHECKOUT, "rev-parse", "HEAD"]),
        "origin_head": out(["git", "-C", ORIGIN, "rev-parse", "master"]),
        "venv_release": out([VENV + "/bin/python", "-c",
                             "import importlib.metadata as m; print(m.version('cidx-stand-in'))"]),
        "server_pid": out(["systemctl", "show", "-P", "MainPID", "cidx-server.service"]),
        "bystander_pid": out(["systemctl", "show", "-P", "MainPID", "cidx-bystander.service"]),
        "package": package_state(),
    }


def auto_update():
    started = time.monotonic()
    result = run(AUTO_UPDATE, env={"PYTHONPATH": SOURCE})
    return {"rc": result["rc"], "seconds": round(time.monotonic() - started, 1),
            "stdout": result["out"], "log": result["err"]}


def boot1():
    report("before", snapshot())
    report("apt_update", run(APT + ["update"])["rc"])
    setup = run(["sh", "/vmtest/setup-cidx-stand-in.sh", "setup"])
    start = run(["sh", "/vmtest/setup-cidx-stand-in.sh", "start"])
    report("stand_in", {"setup_rc": setup["rc"], "start_rc": start["rc"],
                        "start_out": start["out"]})
    report("deployment_before", deployment())
    report("probe_before", probes())
    report("auto_update_1", auto_update())
    report("deployment_after", deployment())
    report("probe_after", probes())
    report("verify_before_reboot", verify())
    report("status_before_reboot", status_json())

    # Scenario 3: nothing may be written by a second run or by a reinstall.
    first = snapshot()
    second_run = auto_update()
    after_execute = snapshot()
    reinstall = run(APT + ["install", "--reinstall", "cidx-sysprep"])
    after_reinstall = snapshot()
    report("idempotent", {
        "first": first, "after_execute": after_execute, "after_reinstall": after_reinstall,
        "execute": second_run, "reinstall_rc": reinstall["rc"],
        "reinstall_output": reinstall["out"] + reinstall["err"]})


def boot2():
    report("after_reboot", {"snapshot": snapshot(), "verify": verify(),
                            "status": status_json(), "package": package_state()})
    removed = run(APT + ["remove", "cidx-sysprep"])
    report("after_remove", {"rc": removed["rc"], "output": removed["out"] + removed["err"],
                            "snapshot": snapshot(), "package": package_state()})
    purged = run(APT + ["purge", "cidx-sysprep"])
    report("after_purge", {"rc": purged["rc"], "output": purged["out"] + purged["err"],
                           "snapshot": snapshot(), "package": package_state(),
                           "config": read("/etc/cidx-sysprep.conf")})


def boot3():
    report("clean_boot", {"snapshot": snapshot(), "package": package_state(),
                          "config": read("/etc/cidx-sysprep.conf")})


if __name__ == "__main__":
    {"1": boot1, "2": boot2, "3": boot3}[sys.argv[1]]()
