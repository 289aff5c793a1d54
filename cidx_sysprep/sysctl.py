"""sysctl.d as the boot sees it: which file sets a key last, and so wins.

systemd-sysctl and `sysctl --system` read *.conf from the sysctl.d directories; a name in
an earlier directory masks the same name in a later one; the files are applied in
lexical order of name; /etc/sysctl.conf comes last (Debian links it in as 99-sysctl.conf,
which sorts after our 99-cidx-memory.conf).
"""
import os

KEY = "vm.overcommit_memory"
WANTED = "1"
DROPIN_TEXT = (
    "# Installed by cidx-sysprep: let fork() succeed for processes whose mmap'd virtual\n"
    "# memory exceeds CommitLimit (see cidx-sysprep(8)). A later file in sysctl.d order,\n"
    "# or /etc/sysctl.conf, overrides this one; `cidx-sysprep status` reports such files.\n"
    f"{KEY} = {WANTED}\n"
)


_SWAP_SEPARATORS = str.maketrans("./", "/.")


def normalize_key(key):
    """The dotted form: with "/" as the first separator, dots and slashes trade places
    (sysctl.d(5): net/ipv4/conf/eth0.100/forwarding is net.ipv4.conf.eth0/100.forwarding)."""
    key = key.strip().lstrip("-")
    return key.translate(_SWAP_SEPARATORS) if "/" in key.split(".")[0] else key


def assignments(text):
    """(line number, key, value) for each assignment in one sysctl file."""
    found = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        key, sep, value = line.partition("=")
        if sep:
            found.append((number, normalize_key(key), value.strip()))
    return found


def boot_files(dirs, sysctl_conf):
    """The files the boot applies, in order."""
    chosen = {}
    for directory in dirs:  # highest precedence first: the first seen name wins
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            if name.endswith(".conf") and name not in chosen:
                chosen[name] = os.path.join(directory, name)
    ordered = [chosen[name] for name in sorted(chosen)]
    seen = {os.path.realpath(p) for p in ordered}
    if os.path.isfile(sysctl_conf) and os.path.realpath(sysctl_conf) not in seen:
        ordered.append(sysctl_conf)
    return ordered


def boot_assignments(dirs, sysctl_conf, key=KEY):
    """(file, line number, value) for every boot-time assignment of `key`, in order."""
    found = []
    for path in boot_files(dirs, sysctl_conf):
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        found += [(path, number, value) for number, k, value in assignments(text) if k == key]
    return found


def overrides(found, ours):
    """The assignments after the last one in `ours` that set another value, when the
    boot ends on another value: they are what undoes ours."""
    if not found or found[-1][2] == WANTED:
        return []
    last_ours = max((i for i, (path, _, _) in enumerate(found) if path == ours), default=-1)
    return [a for a in found[last_ours + 1:] if a[2] != WANTED]


def file_value(path, key=KEY):
    """The value `path` itself sets for `key`, or None (absent file, no such line)."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    values = [value for _, k, value in assignments(text) if k == key]
    return values[-1] if values else None
