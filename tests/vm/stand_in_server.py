#!/usr/bin/env python3
"""A stand-in for the CIDX server: a long-running process with large mmap'd memory.

The real server maps HNSW indexes and SQLite databases until its VmPeak is far above
CommitLimit; with vm.overcommit_memory=0 the kernel then refuses its fork(), and every
subprocess.run() (git, pip, systemctl) fails with OSError errno 12 (ENOMEM).

This stand-in holds one private writable anonymous mapping larger than RAM + swap
(touching only a few pages, like mmap'd indexes that are mostly not resident) and
answers probes on a Unix socket: each probe forks in three ways and reports what
happened, so a test can ask the *same* process before and after the host is fixed.

The fork paths:
- os.fork(): the plain fork every Python does somewhere;
- subprocess.run(["true"]) with subprocess._USE_VFORK = False: how Python 3.9 (RHEL 9's
  system python, CIDX's minimum) runs every subprocess.run(); it always forks;
- subprocess.run(["true"]) as this interpreter does it by default: Python >= 3.10 uses
  vfork(), which does not charge the parent's mappings, so it succeeds even on an
  unfixed host. Reported for the record, not as the reproduction.

    stand_in_server.py serve [--socket PATH] [--map-bytes N]
    stand_in_server.py probe [--socket PATH]
"""
import argparse
import json
import mmap
import os
import socket
import subprocess
import sys

SOCKET = "/run/cidx-server.sock"
PAGE = mmap.PAGESIZE


def meminfo_bytes(key):
    with open("/proc/meminfo") as f:
        for line in f:
            name, value = line.split(":", 1)
            if name == key:
                return int(value.split()[0]) * 1024
    raise KeyError(key)


def default_map_bytes():
    """RAM + swap + 512 MiB: one mapping the heuristic (mode 0) refuses to duplicate."""
    return meminfo_bytes("MemTotal") + meminfo_bytes("SwapTotal") + (512 << 20)


def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def outcome(func):
    try:
        func()
        return {"ok": True, "errno": None, "error": None}
    except OSError as exc:
        return {"ok": False, "errno": exc.errno, "error": str(exc)}


def plain_fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("forked child exited non-zero")


def run_true_as_python39():
    """subprocess.run(["true"]) through fork(), never vfork()."""
    if sys.version_info < (3, 10):  # 3.9 always forks
        subprocess.run(["true"], check=True)
    elif hasattr(subprocess, "_USE_VFORK"):  # 3.11+: the switch CPython's tests use
        saved = subprocess._USE_VFORK
        subprocess._USE_VFORK = False
        try:
            subprocess.run(["true"], check=True)
        finally:
            subprocess._USE_VFORK = saved
    else:  # 3.10: a preexec_fn rules vfork out
        subprocess.run(["true"], check=True, preexec_fn=lambda: None)


def run_true_default():
    subprocess.run(["true"], check=True)


def probe_report(mapping):
    with open("/proc/sys/vm/overcommit_memory") as f:
        overcommit = int(f.read())
    return {
        "pid": os.getpid(),
        "python": "%d.%d.%d" % sys.version_info[:3],
        "mapping_bytes": len(mapping),
        "vm_size_kib": status_kib("VmSize"),
        "vm_rss_kib": status_kib("VmRSS"),
        "mem_total_bytes": meminfo_bytes("MemTotal"),
        "swap_total_bytes": meminfo_bytes("SwapTotal"),
        "overcommit_memory": overcommit,
        "os_fork": outcome(plain_fork),
        "subprocess_run_forking_like_py39": outcome(run_true_as_python39),
        "subprocess_run_default_vfork": outcome(run_true_default),
    }


def notify_ready():
    """Tell systemd (Type=notify) that the mapping is in place."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.connect(address)
        s.sendall(b"READY=1")


def serve(path, map_bytes):
    mapping = mmap.mmap(-1, map_bytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS,
                        prot=mmap.PROT_READ | mmap.PROT_WRITE)
    for offset in range(0, 16 * PAGE, PAGE):  # a few resident pages, the rest untouched
        mapping[offset] = 1
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    print("stand-in server pid %d holds a %d MiB private writable mapping"
          % (os.getpid(), map_bytes >> 20), flush=True)
    notify_ready()
    while True:
        conn, _ = server.accept()
        with conn:
            conn.recv(64)
            conn.sendall(json.dumps(probe_report(mapping)).encode() + b"\n")


def probe(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(60)
        s.connect(path)
        s.sendall(b"probe\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    sys.stdout.write(data.decode())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("serve", "probe"))
    parser.add_argument("--socket", default=SOCKET)
    parser.add_argument("--map-bytes", type=int, default=None)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.socket, args.map_bytes or default_map_bytes())
    else:
        probe(args.socket)


if __name__ == "__main__":
    main()
