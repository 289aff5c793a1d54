"""The human report: short lines an operator reads at a glance."""


def _gib(n):
    return f"{n / (1 << 30):.1f} GiB"


def _comes_back(area):
    if area["in_fstab"]:
        return "in /etc/fstab"
    if area["recreated_by"]:
        return f"made at boot ({area['recreated_by']})"
    return "NOT in /etc/fstab"


def status_lines(status):
    oc, sw = status["overcommit"], status["swap"]
    lines = []
    if not oc["enabled"]:
        lines.append("overcommit  off      disabled by configuration (OVERCOMMIT=no)")
    else:
        boot = f"{oc['boot_value']} at boot ({oc['boot_source']})" if oc["boot_source"] else "not set at boot"
        lines.append(f"overcommit  {'ok     ' if oc['ok'] else 'MISSING'}  "
                     f"vm.overcommit_memory = {oc['effective']} now, {boot}")
    if not sw["enabled"]:
        lines.append("swap        off      disabled by configuration (SWAP=no)")
    elif not sw["active"]:
        lines.append("swap        MISSING  no active swap")
    else:
        areas = ", ".join(f"{a['path']} {_gib(a['size_bytes'])} " + _comes_back(a) for a in sw["active"])
        lines.append(f"swap        {'ok     ' if sw['ok'] else 'MISSING'}  active: {areas}")
    lines += [f"problem: {p}" for p in status["problems"]]
    lines.append("host is provisioned" if status["provisioned"]
                 else "host is NOT provisioned: run `cidx-sysprep provision` (as root)")
    return lines
