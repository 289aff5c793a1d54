"""`make bench`: side-by-side timings behind the project's performance claims.

Each row compares two (or more) things measured in the same run, interleaved: every
round runs each contender once, in a rotating order, so drift and caches hit all sides
alike. A row reports the median of the per-round ratios (what counts) and the median
times (noisy, secondary).

  1  `cidx-sysprep status` / `provision` on a converged fake host vs `python3 -c pass`
  2  the story's check, forking `sysctl -n`, `swapon --show`, `cat /etc/fstab`
  3  `fallocate` + mkswap vs `dd` zero-fill + mkswap of a 4 GiB file on the host disk
  4  `dpkg -i` of the built .deb vs `dpkg -i` of an empty package, in a throwaway root

Nothing here changes the host: rows 1-2 read a tmp tree or run read-only commands, row
3 never runs swapon and deletes its files, row 4 runs dpkg chrooted into a copy of the
cached Debian 12 rootfs with the fake /proc, sysctl and swapon of tests/packaging.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cidx_sysprep import environment, swapfile  # noqa: E402
from cidx_sysprep.paths import Paths  # noqa: E402

PYTHON = "/usr/bin/python3"  # never the pyenv shim on PATH: it starts 9x slower
HOST_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
STARTUP_ROUNDS = 30
SWAPFILE_ROUNDS = 3
DPKG_ROUNDS = 5
SWAP_SIZE = "4G"
SWAP_BYTES = 4 << 30
SWAPS_HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"

CLI = ("import sys\n"
       "from cidx_sysprep.cli import main\n"
       "from cidx_sysprep.paths import Paths\n"
       "sys.exit(main([{command!r}], paths=Paths(root={root!r})))\n")
# What a hand-written check costs without cidx_sysprep: read the three files, no fork.
DIRECT = ("r = {root!r}\n"
          "oc = open(r + '/proc/sys/vm/overcommit_memory').read().strip() == '1'\n"
          "swaps = open(r + '/proc/swaps').read().splitlines()[1:]\n"
          "fstab = open(r + '/etc/fstab').read()\n"
          "raise SystemExit(0 if oc and swaps and swaps[0].split()[0] in fstab else 1)\n")
# The story's algorithm: the same three facts, each from a forked command.
FORKED = ("import subprocess\n"
          "def run(argv):\n"
          "    return subprocess.run(argv, capture_output=True, text=True).stdout\n"
          "oc = run(['sysctl', '-n', 'vm.overcommit_memory']).strip() == '1'\n"
          "shown = run(['swapon', '--show', '--noheadings']).split()\n"
          "fstab = run(['cat', '/etc/fstab'])\n"
          "ok = oc and bool(shown) and shown[0] in fstab\n")


class Skip(Exception):
    """A row that cannot run here; the reason is printed in its place."""


def rounds(contenders, count, warmup=0):
    """Run each contender once per round, rotating the order; seconds per contender.

    A contender is (name, timed) where timed() does the work and returns its duration.
    """
    times = {name: [] for name, _ in contenders}
    for number in range(warmup + count):
        shift = number % len(contenders)
        for name, timed in contenders[shift:] + contenders[:shift]:
            elapsed = timed()
            if number >= warmup:
                times[name].append(elapsed)
    return times


def timed_command(argv, expect=0, **kwargs):
    def timed():
        start = time.perf_counter()
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, **kwargs)
        elapsed = time.perf_counter() - start
        if expect is not None and result.returncode != expect:
            raise RuntimeError(f"{argv[:4]} exited {result.returncode}: {result.stderr.strip()}")
        return elapsed
    return timed


class Row:
    def __init__(self, label, times, subject, reference):
        self.label = label
        self.subject = times[subject]
        self.reference = times[reference]
        self.ratio = statistics.median(s / r for s, r in zip(self.subject, self.reference))
        self.pairs = len(self.subject)


# --- rows 1 and 2 -----------------------------------------------------------------------------

def compiled_copy(workdir):
    """The package copied and compiled: start-up then reads .pyc files whatever
    PYTHONDONTWRITEBYTECODE says, as an installed package does."""
    lib = workdir / "lib"
    shutil.copytree(REPO / "cidx_sysprep", lib / "cidx_sysprep",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(lib)], check=True)
    sources = list(lib.rglob("*.py"))
    if len(list(lib.rglob("*.pyc"))) != len(sources):
        raise RuntimeError(f"compileall left {lib} partly uncompiled")
    return lib


def converged_host(workdir):
    """A tmp tree that reads as a provisioned host: overcommit 1 now and at boot, the
    swap file active and in fstab."""
    root = workdir / "host"
    files = {
        "proc/sys/vm/overcommit_memory": "1\n",
        "proc/swaps": SWAPS_HEADER + "/swapfile\tfile\t\t4194300\t\t0\t\t-2\n",
        "proc/self/mountinfo": "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n",
        "etc/fstab": ("# /etc/fstab: static file system information.\n"
                      "UUID=5e6f / ext4 errors=remount-ro 0 1\n"
                      "/swapfile none swap sw 0 0\n"),
        "etc/sysctl.d/99-cidx-memory.conf": (REPO / "conf/99-cidx-memory.conf").read_text(),
        "usr/lib/sysctl.d/50-pid-max.conf": "kernel.pid_max = 4194304\n",
        "etc/sysctl.conf": "#kernel.domainname = example.com\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def startup_rows(workdir):
    lib = compiled_copy(workdir)
    root = str(converged_host(workdir))
    env = {"PATH": HOST_PATH, "LC_ALL": "C.UTF-8", "HOME": str(workdir),
           "PYTHONPATH": str(lib), "CIDX_SYSPREP_CONFIG": f"{root}/etc/cidx-sysprep.conf"}
    scripts = {
        "pass": "pass",
        "direct": DIRECT.format(root=root),
        "status": CLI.format(command="status", root=root),
        "provision": CLI.format(command="provision", root=root),
        "forked": FORKED,
    }
    for command, says in (("status", "host is provisioned"), ("provision", "nothing to do")):
        shown = subprocess.run([PYTHON, "-c", scripts[command]], env=env, capture_output=True,
                               text=True)
        if shown.returncode != 0 or says not in shown.stdout:
            raise RuntimeError(f"{command} on the fake host is not the converged path: "
                               f"{shown.returncode} {shown.stdout!r} {shown.stderr!r}")
    contenders = [(name, timed_command([PYTHON, "-c", script], env=env))
                  for name, script in scripts.items()]
    times = rounds(contenders, STARTUP_ROUNDS, warmup=3)
    return [
        Row("status, converged host / python -c pass", times, "status", "pass"),
        Row("provision, nothing to do / python -c pass", times, "provision", "pass"),
        Row("same 3 reads by hand, no fork / python -c pass", times, "direct", "pass"),
        Row("story: fork sysctl, swapon, cat / python -c pass", times, "forked", "pass"),
        Row("story: fork sysctl, swapon, cat / status", times, "forked", "status"),
    ]


# --- row 3 ------------------------------------------------------------------------------------

def swapfile_row(workdir):
    directory = Path(tempfile.mkdtemp(prefix="cidx-sysprep-bench-", dir="/var/tmp"))
    try:
        fstype, mount_point = environment.filesystem_of(str(directory), Paths())
        if swapfile.allocation_method(fstype) == swapfile.REFUSE:
            raise Skip(f"/var/tmp is on {fstype}, not a disk filesystem")
        free, _ = environment.disk_space(str(directory))
        if free < SWAP_BYTES + (2 << 30):
            raise Skip(f"{free >> 30} GiB free on {mount_point}; needs 6")
        path = str(directory / "swapfile")
        finish = [["chmod", "600", path], ["mkswap", path]]  # never swapon

        def make(allocate):
            def timed():
                start = time.perf_counter()
                for argv in [allocate] + finish:
                    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
                elapsed = time.perf_counter() - start
                os.unlink(path)
                subprocess.run(["sync"], check=True)  # the next run starts with a quiet disk
                return elapsed
            return timed

        contenders = [("fallocate", make(["fallocate", "-l", SWAP_SIZE, path])),
                      ("dd", make(swapfile.zero_fill_argv(path, SWAP_BYTES)))]
        times = rounds(contenders, SWAPFILE_ROUNDS)
        return [Row(f"4G swap file: dd + mkswap / fallocate + mkswap ({fstype})",
                    times, "dd", "fallocate")]
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# --- row 4 ------------------------------------------------------------------------------------

EMPTY = "cidx-sysprep-bench-empty"


def empty_deb(workdir):
    tree = workdir / "empty" / "DEBIAN"
    tree.mkdir(parents=True)
    (tree / "control").write_text(
        f"Package: {EMPTY}\nVersion: 1.0\nArchitecture: all\n"
        "Maintainer: cidx-sysprep bench <bench@localhost>\n"
        "Description: nothing at all: the floor cost of dpkg -i\n")
    deb = workdir / f"{EMPTY}_1.0_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(tree.parent), str(deb)],
                   check=True, stdout=subprocess.DEVNULL)
    return deb


def built_deb(workdir):
    """Build the package from this checkout into workdir (about 5 s), leaving dist/ alone."""
    dist = workdir / "dist"
    built = subprocess.run(["tools/build-packages"], cwd=REPO, capture_output=True, text=True,
                           env={**os.environ, "BUILD_DIR": str(workdir / "build"),
                                "DIST_DIR": str(dist)})
    if built.returncode != 0:
        raise Skip(f"tools/build-packages failed: {built.stderr.strip().splitlines()[-1:]}")
    debs = sorted(dist.glob("cidx-sysprep_*_all.deb"))
    if not debs:
        raise Skip("tools/build-packages made no .deb")
    return debs[0]


def dpkg_row(workdir):
    if os.geteuid() != 0:
        raise Skip("needs root for chroot")
    try:
        from tests.packaging.conftest import FSTAB, Root, _prepare, _unpack_base
    except ImportError as exc:
        raise Skip(f"the tests/packaging throwaway-root harness is not importable: {exc}")
    deb, empty = built_deb(workdir), empty_deb(workdir)
    path = workdir / "root"
    path.mkdir()
    try:
        _unpack_base(path)
        root = Root(path)
        _prepare(root)
        packages = {"cidx-sysprep": root.copy_in(deb), EMPTY: root.copy_in(empty)}

        def reset():
            """Back to the prepared state: purged, overcommit 0, no swap, the original fstab."""
            for name in packages:
                root.run("dpkg", "--purge", name)
            (root / "/proc/sys/vm/overcommit_memory").write_text("0\n")
            (root / "/proc/swaps").write_text(SWAPS_HEADER)
            (root / "/etc/fstab").write_bytes(FSTAB)
            for leftover in ("/swapfile", "/var/log/fake-commands"):
                if (root / leftover).exists():
                    (root / leftover).unlink()

        def install(name, fresh=True):
            def timed():
                if fresh:
                    reset()
                start = time.perf_counter()
                result = root.run("dpkg", "-i", packages[name])
                elapsed = time.perf_counter() - start
                if result.returncode != 0:
                    raise RuntimeError(f"dpkg -i {name} in the throwaway root: {result.stderr}")
                if name == "cidx-sysprep" and "/swapfile" not in root.swaps():
                    raise RuntimeError("the install did not provision: " + result.stdout + result.stderr)
                return elapsed
            return timed

        times = rounds([("cidx-sysprep", install("cidx-sysprep")), (EMPTY, install(EMPTY))],
                       DPKG_ROUNDS, warmup=1)
        # The auto-updater's case: the host is provisioned, the package is installed again.
        reset()
        for name in packages:
            install(name, fresh=False)()
        again = rounds([("cidx-sysprep", install("cidx-sysprep", fresh=False)),
                        (EMPTY, install(EMPTY, fresh=False))], DPKG_ROUNDS, warmup=1)
        reset()
        return [Row("dpkg -i cidx-sysprep (provisions) / dpkg -i empty package",
                    times, "cidx-sysprep", EMPTY),
                Row("dpkg -i again, provisioned host / dpkg -i empty package again",
                    again, "cidx-sysprep", EMPTY)]
    finally:
        shutil.rmtree(path, ignore_errors=True)  # ~400 MB and possibly a 4 GiB swap file


ROWS = (("start-up: status, provision, the story's forks", startup_rows),
        ("4G swap file: dd / fallocate", swapfile_row),
        ("dpkg -i cidx-sysprep / dpkg -i empty package", dpkg_row))


# --- report -----------------------------------------------------------------------------------

def ms(seconds):
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def main():
    started = time.perf_counter()
    version = subprocess.run([PYTHON, "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    print(f"interpreter: {PYTHON} {version}; cidx_sysprep compiled with compileall into a tmp "
          "copy first,\nso start-up reads .pyc files and PYTHONDONTWRITEBYTECODE does not matter "
          "(it is unset).")
    print("ratio = median over interleaved rounds of (first / second); times are medians, "
          "noisy.\n")
    header = f"{'comparison':<62} {'ratio':>8}  {'first':>9}  {'second':>9}  rounds"
    print(header)
    print("-" * len(header))
    sys.stdout.flush()
    with tempfile.TemporaryDirectory(prefix="cidx-sysprep-bench-") as tmp:
        for number, (title, measure) in enumerate(ROWS, 1):
            workdir = Path(tmp) / str(number)
            workdir.mkdir()
            try:
                for row in measure(workdir):
                    print(f"{row.label:<62} {row.ratio:>7.2f}x  "
                          f"{ms(statistics.median(row.subject)):>9}  "
                          f"{ms(statistics.median(row.reference)):>9}  {row.pairs:>6}")
            except Skip as reason:
                print(f"{title:<62} skipped: {reason}")
            sys.stdout.flush()
    print(f"\n{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
