"""Guest-side helpers for the VM scenarios: run commands, measure host state, report.

Runs inside the qemu guest (Debian 12, Python 3.11), as root, from vmtest.service.
Nothing here asserts: each scenario reports what it measured (RESULT markers on the
serial console, see tests/vm/harness.py) and the host-side pytest asserts exact values.
"""
import hashlib
import json
import os
import shlex
import subprocess
import zlib

NONCE = os.environ.get("VMTEST_NONCE", "unset")
SWAPFILE = "/swapfile"
FSTAB = "/etc/fstab"
DROPIN = "/etc/sysctl.d/99-cidx-memory.conf"
STATE_RECORD = "/var/lib/cidx-sysprep/created"
SWAP_MAGIC_OFFSET = 4096 - 10  # "SWAPSPACE2" ends the first 4 KiB page
HEAD_BYTES = 1 << 20


def say(text):
    os.write(1, (text.rstrip("\n") + "\n").encode())


def report(key, value):
    """One RESULT marker line, written with a single write()."""
    data = json.dumps(value, sort_keys=True)
    say("@@VMTEST %s RESULT %s %08x %s" % (NONCE, key, zlib.crc32(data.encode()), data))
    return value


def run(cmd, input=None, env=None, quiet=False):
    """Run a command (list or shell string); echo it and its output to the console."""
    shell = isinstance(cmd, str)
    full_env = dict(os.environ, **(env or {}))
    say("$ " + (cmd if shell else " ".join(shlex.quote(c) for c in cmd)))
    proc = subprocess.run(cmd, shell=shell, input=input, env=full_env,
                          capture_output=True, text=True)
    if not quiet:
        for line in (proc.stdout + proc.stderr).splitlines():
            say("  | " + line)
    say("  -> rc=%d" % proc.returncode)
    return {"rc": proc.returncode, "out": proc.stdout, "err": proc.stderr}


def read(path, default=None):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return default


def overcommit():
    return int(read("/proc/sys/vm/overcommit_memory"))


def swaps():
    """Active swap areas from /proc/swaps: name, type, size_kib."""
    lines = read("/proc/swaps", "").splitlines()[1:]
    return [{"name": f[0], "type": f[1], "size_kib": int(f[2])}
            for f in (line.split() for line in lines)]


def file_facts(path, full_hash=True):
    """What a file is: mode, size, inode, times, checksum, swap signature.

    full_hash=False hashes only the first MiB: the 4 GiB swap file's header holds
    its signature and UUID (a new mkswap changes it); hashing all of it under TCG
    takes minutes. Its inode, mtime and ctime catch any other write or chmod.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return {"exists": False}
    facts = {
        "exists": True, "mode": "%04o" % (st.st_mode & 0o7777), "uid": st.st_uid,
        "size": st.st_size, "blocks_bytes": st.st_blocks * 512, "inode": st.st_ino,
        "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns,
    }
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
        digest.update(head)
        if full_hash:
            for chunk in iter(lambda: f.read(HEAD_BYTES), b""):
                digest.update(chunk)
    facts["sha256" if full_hash else "head_sha256"] = digest.hexdigest()
    facts["swap_signature"] = head[SWAP_MAGIC_OFFSET:4096] == b"SWAPSPACE2"
    return facts


def fstab_entries(target=SWAPFILE, path=FSTAB):
    """Uncommented fstab lines whose first field is target."""
    return [line for line in read(path, "").splitlines()
            if line.split() and not line.lstrip().startswith("#") and line.split()[0] == target]


def status_json():
    """`cidx-sysprep status --json`: exit code and parsed output."""
    proc = run(["cidx-sysprep", "status", "--json"])
    try:
        parsed = json.loads(proc["out"])
    except ValueError:
        parsed = None
    return {"rc": proc["rc"], "json": parsed, "raw": proc["out"] if parsed is None else None,
            "stderr": proc["err"]}


def verify():
    """The shared verification script, as Vagrant runs it."""
    proc = run(["sh", "/vmtest/verify.sh"])
    return {"rc": proc["rc"], "out": proc["out"]}


def package_state(name="cidx-sysprep"):
    proc = run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}${Version}", name], quiet=True)
    return proc["out"].strip() if proc["rc"] == 0 else "not-known"


def snapshot(swapfile_hash=False):
    """The host state cidx-sysprep is about, read directly from /proc and files."""
    sysctl_cmd = run(["sysctl", "-n", "vm.overcommit_memory"], quiet=True)
    return {
        "overcommit_memory": overcommit(),
        "sysctl_n": sysctl_cmd["out"].strip(),
        "swaps": swaps(),
        "fstab": read(FSTAB),
        "fstab_facts": file_facts(FSTAB),
        "fstab_swapfile_entries": fstab_entries(),
        "dropin": read(DROPIN),
        "dropin_facts": file_facts(DROPIN),
        "swapfile": file_facts(SWAPFILE, full_hash=swapfile_hash),
        "state_record": read(STATE_RECORD),
    }


def log_levels(text):
    """Count `cidx-sysprep: LEVEL ...` style lines and logging's LEVEL:name lines by level."""
    counts = {}
    for line in text.splitlines():
        for level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            if (" %s " % level) in (" " + line + " ") or line.startswith(level + ":"):
                counts[level] = counts.get(level, 0) + 1
                break
    return counts
