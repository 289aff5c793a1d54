"""Probe the host and judge it: pure reads of /proc and /etc, no fork, no logging.

This is the converged path: `cidx-sysprep status` and an already-provisioned
`provision` cost about one Python start-up (see `make bench`).
"""
import os

from cidx_sysprep import __version__, environment, fstab, swapfile, sysctl

SCHEMA = 1
_BY = {"UUID": "by-uuid", "LABEL": "by-label", "PARTUUID": "by-partuuid", "PARTLABEL": "by-partlabel"}


def probe(config, paths):
    """The host's state as a JSON-ready dict (schema: docs/operator-guide.md)."""
    manager = environment.container(paths)
    effective = environment.read_overcommit(paths)
    found = sysctl.boot_assignments(paths.sysctl_dirs, paths.sysctl_conf)
    boot = found[-1] if found else None
    # A container boots with its host's sysctls and swap: what counts there is the
    # effective value and active swap, not this root's files.
    persisted = manager is not None or (boot is not None and boot[2] == sysctl.WANTED)
    overcommit_ok = not config.overcommit or (effective == sysctl.WANTED and persisted)
    specs = fstab.swap_specs(fstab.parse(fstab.read(paths.fstab)))
    in_fstab = {_resolve(s, paths) for s in specs}
    active = environment.active_swaps(paths)
    zram_config = next((p for p in paths.zram_configs if os.path.isfile(p)), None)
    for area in active:
        area["in_fstab"] = os.path.realpath(area["path"]) in in_fstab or area["path"] in specs
        zram = os.path.basename(area["path"]).startswith("zram")
        area["recreated_by"] = zram_config if zram else None
    persistent = any(a["in_fstab"] or a["recreated_by"] for a in active)
    swap_ok = not config.swap or (bool(active) and (persistent or manager is not None))
    status = {
        "schema": SCHEMA,
        "version": __version__,
        "provisioned": overcommit_ok and swap_ok,
        "overcommit": {
            "enabled": config.overcommit,
            "effective": effective,
            "boot_value": boot[2] if boot else None,
            "boot_source": f"{boot[0]}:{boot[1]}" if boot else None,
            "dropin": paths.sysctl_dropin,
            "dropin_value": sysctl.file_value(paths.sysctl_dropin),
            "overrides": [{"file": p, "line": n, "value": v}
                          for p, n, v in sysctl.overrides(found, paths.sysctl_dropin)],
            "ok": overcommit_ok,
        },
        "swap": {
            "enabled": config.swap,
            "file": config.swap_file,
            "size": config.swap_size,
            "active": active,
            "file_active": any(a["path"] == config.swap_file for a in active),
            "persistent": persistent,
            "ok": swap_ok,
        },
        "environment": {
            "container": manager,
            "proc_sys_read_only": environment.proc_sys_read_only(paths),
        },
    }
    status["problems"] = problems(status)
    return status


def problems(status):
    """What is wrong, each with what to do, for the human report."""
    found = []
    oc, sw = status["overcommit"], status["swap"]
    if oc["enabled"] and oc["effective"] != sysctl.WANTED:
        found.append(f"vm.overcommit_memory is {oc['effective']}, not 1: fork() of a process "
                     "with large mappings can fail with ENOMEM")
    if oc["enabled"] and oc["boot_value"] != sysctl.WANTED and not status["environment"]["container"]:
        where = f" ({oc['boot_source']})" if oc["boot_source"] else ""
        found.append(f"at boot vm.overcommit_memory will be {oc['boot_value'] or 'the kernel default'}"
                     f"{where}")
    # A container's own sysctl files are never applied by its host's boot.
    for o in [] if status["environment"]["container"] else oc["overrides"]:
        found.append(f"{o['file']}:{o['line']} sets vm.overcommit_memory = {o['value']} and wins "
                     "at boot (sysctl.d order): remove or change that line")
    if sw["enabled"] and not sw["active"]:
        found.append("no swap is active")
    elif sw["enabled"] and not sw["persistent"] and not status["environment"]["container"]:
        found.append("no active swap area comes back at boot (none is in /etc/fstab or made by "
                     "zram-generator or zram-tools): swap will be gone after a reboot")
    if status["environment"]["container"] and not status["provisioned"]:
        found.append(f"running in a container ({status['environment']['container']}): "
                     "the host must provide overcommit and swap")
    return found


def plan(status, config, paths):
    """What `provision` would do, as sentences; pure, for --dry-run and the report."""
    steps = []
    oc = status["overcommit"]
    if not oc["ok"]:
        unchangeable = environment.why_sysctl_is_not_ours(paths)
        if unchangeable:
            steps.append(f"skip vm.overcommit_memory: {unchangeable}")
        else:
            if oc["dropin_value"] != sysctl.WANTED:
                steps.append(f"write {paths.sysctl_dropin} (vm.overcommit_memory = 1)")
            steps.append(f"apply it: sysctl -p {paths.sysctl_dropin}")
    sw = status["swap"]
    if not sw["ok"]:
        steps += _swap_plan(status, config, paths)
    return steps


def _swap_plan(status, config, paths):
    path = config.swap_file
    if status["environment"]["container"]:
        return ["skip swap: running in a container"]
    if status["swap"]["file_active"]:
        return [f"add {fstab.swap_line(path)!r} to {paths.fstab}"]
    if status["swap"]["active"]:
        return ["leave swap alone: another swap area is active (not in /etc/fstab)"]
    decision = swapfile.decide(path, config.swap_bytes, paths)
    if decision.action == swapfile.REFUSE_FILESYSTEM:
        return [f"refuse: {path} is on {decision.fstype} ({decision.mount_point}), which cannot hold swap"]
    if decision.action == swapfile.REFUSE_NOT_SWAP:
        return [f"refuse: {path} exists and is not swap space"]
    if decision.action == swapfile.REFUSE_SPACE:
        return [f"refuse: {path} {decision.shortfall()}"]
    if decision.action == swapfile.REUSE:
        steps = [f"reuse the inactive swap file {path}: swapon {path}"]
    else:
        how = {swapfile.FALLOCATE: "fallocate", swapfile.NOCOW: "chattr +C and fallocate",
               swapfile.ZERO_FILL: "dd zero-fill"}[decision.method]
        steps = ([f"remove the stale {path}"] if decision.existing == swapfile.STALE else []) + [
            f"create {path} ({config.swap_size}, {how} on {decision.fstype}), chmod 600, mkswap, swapon {path}"]
    return steps + [f"add {fstab.swap_line(path)!r} to {paths.fstab} unless present"]


def _resolve(spec, paths):
    """The real device path an fstab device field names (UUID=, LABEL=, or a path)."""
    tag, sep, value = spec.partition("=")
    if sep and tag in _BY:
        spec = paths.at(f"/dev/disk/{_BY[tag]}/{value}")
    return os.path.realpath(spec)
