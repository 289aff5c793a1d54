"""Boot Debian 12 under qemu for the VM suite: build a disk, boot it step by step, read results.

A machine is the cached mmdebstrap root filesystem (tests/rootfs.py) plus the scenario's
files, written to a raw ext4 disk with `mkfs.ext4 -d` and booted straight from the
image's kernel and initrd (no bootloader). Its systemd oneshot unit `vmtest.service`
runs one step per boot, the step named on line N of /var/lib/vmtest/steps where N is
read from /var/lib/vmtest/next-step, which the runner advances *before* the step
runs; the unit then powers the machine off. A reboot is therefore the next boot of
the same disk image, and a step that crashed is never run twice.

Everything the guest reports goes to its serial console (ttyS0) as lines

    @@VMTEST <nonce> BEGIN <n> <step>
    @@VMTEST <nonce> RESULT <key> <crc32 of json> <json>
    @@VMTEST <nonce> END <n> rc=<exit code>

The nonce is random per machine, so a script or log that quotes a marker cannot fake
one, and the crc catches a line the kernel's own console output has cut into.
"""
import json
import os
import re
import selectors
import shutil
import subprocess
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from tests import rootfs

VM_DIR = Path(__file__).resolve().parent
REPO = VM_DIR.parent.parent
GUEST_DIR = VM_DIR / "guest"
MARK = "@@VMTEST"
MEMORY_MIB = 1024  # the ENOMEM reproduction depends on it: a mapping > RAM + swap
DISK_SIZE = "10G"
ORIGINAL_FSTAB = (
    "# /etc/fstab: static file system information (written by tests/vm/harness.py).\n"
    "/dev/vda / ext4 defaults 0 1\n"
)
KVM_PROBE_SECONDS = 10


class BootError(AssertionError):
    """A boot that timed out, crashed, or whose step did not report as expected."""


def _qemu_base(accel, kernel, initrd, append):
    return [
        "qemu-system-x86_64", "-accel", accel, "-cpu", "max",
        "-m", str(MEMORY_MIB), "-smp", "2", "-nographic", "-nic", "none",
        "-kernel", str(kernel), "-initrd", str(initrd), "-append", append,
        "-no-reboot",
    ]


def choose_accel(kernel, initrd):
    """KVM when it really boots a kernel here, else TCG.

    /dev/kvm exists on these machines but nested KVM is broken: `-accel kvm -cpu max`
    aborts on an MSR and plain `-enable-kvm` hangs before the kernel prints anything
    (docs/vm-tests.md). So probe: boot the kernel with no disk and wait at most
    KVM_PROBE_SECONDS for its banner. CIDX_VM_ACCEL=tcg|kvm skips the probe.
    """
    forced = os.environ.get("CIDX_VM_ACCEL")
    if forced:
        return forced
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    cmd = _qemu_base("kvm", kernel, initrd, "console=ttyS0 panic=-1")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    seen = b""
    deadline = time.monotonic() + KVM_PROBE_SECONDS
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while b"Linux version" not in seen and time.monotonic() < deadline:
            if sel.select(timeout=max(0.0, deadline - time.monotonic())):
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:  # qemu exited (for example the MSR abort)
                    break
                seen += chunk
    proc.kill()
    proc.wait()
    proc.stdout.close()
    return "kvm" if b"Linux version" in seen else "tcg"


def parse_serial(text, nonce):
    """Markers of one boot: (begin step, end rc or None, {key: value}, corrupt lines)."""
    begin, end_rc, results, corrupt = None, None, {}, []
    prefix = "%s %s " % (MARK, nonce)
    for line in text.splitlines():
        at = line.find(prefix)
        if at < 0:
            continue
        kind, _, rest = line[at + len(prefix):].strip().partition(" ")
        if kind == "BEGIN":
            begin = rest
        elif kind == "END":
            m = re.match(r"(\d+) rc=(\d+)$", rest)
            if m:
                end_rc = int(m.group(2))
        elif kind == "RESULT":
            parts = rest.split(" ", 2)
            if len(parts) == 3 and "%08x" % zlib.crc32(parts[2].encode()) == parts[1]:
                results[parts[0]] = json.loads(parts[2])
            else:
                corrupt.append(line)
    return begin, end_rc, results, corrupt


@dataclass
class Boot:
    index: int
    step: str
    seconds: float
    log: str
    results: dict
    rc: int

    def tail(self, lines=60):
        return "\n".join(self.log.splitlines()[-lines:])


@dataclass
class Machine:
    """One VM: a name, its boot steps (shell commands run by the guest), its files.

    files maps a guest path to a host path (file or directory, copied) or to bytes.
    extra_disks maps a name to a size (`truncate -s`); they appear as /dev/vdb, ...
    """
    name: str
    workdir: Path
    steps: list
    files: dict = field(default_factory=dict)
    extra_disks: dict = field(default_factory=dict)
    boot_timeout: int = 420
    nonce: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    boots: list = field(default_factory=list)
    accel: str = None

    @property
    def disk(self):
        return self.workdir / "disk.img"

    def build(self):
        """Write the machine's disk image; returns seconds taken."""
        started = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        tree = self.workdir / "root"
        if tree.exists():
            shutil.rmtree(tree)
        subprocess.run(["cp", "-a", "--reflink=auto", str(rootfs.base_rootfs()), str(tree)],
                       check=True)
        self._configure(tree)
        for guest_path, source in self.files.items():
            self._install(tree, guest_path, source)
        self.kernel = self._copy_boot_file(tree, "vmlinuz-*")
        self.initrd = self._copy_boot_file(tree, "initrd.img-*")
        self.disk.unlink(missing_ok=True)
        subprocess.run(["truncate", "-s", DISK_SIZE, str(self.disk)], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(tree), str(self.disk)], check=True)
        shutil.rmtree(tree)
        for name, size in self.extra_disks.items():
            path = self.workdir / ("%s.img" % name)
            path.unlink(missing_ok=True)
            subprocess.run(["truncate", "-s", size, str(path)], check=True)
        return time.monotonic() - started

    def _copy_boot_file(self, tree, pattern):
        found = sorted((tree / "boot").glob(pattern))
        if not found:
            raise BootError("no %s in the root filesystem's /boot" % pattern)
        target = self.workdir / pattern.split("-")[0]
        shutil.copyfile(found[-1], target)
        return target

    def _configure(self, tree):
        (tree / "etc/fstab").write_text(ORIGINAL_FSTAB)
        (tree / "etc/hostname").write_text("cidx-vm\n")
        # Only the scenario's local repository: the guest has no network.
        (tree / "etc/apt/sources.list").write_text("")
        system = tree / "etc/systemd/system"
        # No timers: apt-daily would race the scenario for the dpkg lock.
        for timer in (system / "timers.target.wants").glob("*"):
            timer.unlink()
        # The serial console belongs to the scenario, not to a login prompt.
        (system / "serial-getty@ttyS0.service").symlink_to("/dev/null")
        shutil.copyfile(GUEST_DIR / "vmtest.service", system / "vmtest.service")
        (system / "multi-user.target.wants/vmtest.service").symlink_to(
            "/etc/systemd/system/vmtest.service")
        state = tree / "var/lib/vmtest"
        state.mkdir(parents=True)
        (state / "nonce").write_text(self.nonce + "\n")
        (state / "steps").write_text("".join(step + "\n" for step in self.steps))
        (state / "next-step").write_text("1\n")
        # The guest side of the suite: runner, helpers, scenario scripts, and the
        # scripts shared with the Vagrant machines.
        vmtest = tree / "vmtest"
        shutil.copytree(GUEST_DIR, vmtest, ignore=shutil.ignore_patterns("__pycache__"))
        for shared in ("verify.sh", "setup-cidx-stand-in.sh", "stand_in_server.py",
                       "stand_in_build.py"):
            shutil.copy2(VM_DIR / shared, vmtest / shared)
        for script in vmtest.iterdir():
            if script.suffix in (".sh", ".py") or script.name == "vmtest-run":
                script.chmod(0o755)

    @staticmethod
    def _install(tree, guest_path, source):
        target = tree / guest_path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, bytes):
            target.write_bytes(source)
        elif Path(source).is_dir():
            shutil.copytree(source, target, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target)

    def boot(self):
        """Boot once; the guest runs its next step. Raises BootError unless it ran to END."""
        __tracebackhide__ = True  # the BootError says what happened and shows the log
        index = len(self.boots) + 1
        if self.accel is None:
            self.accel = choose_accel(self.kernel, self.initrd)
        log_path = self.workdir / ("serial-%d.log" % index)
        cmd = ["timeout", "--kill-after=10", str(self.boot_timeout)] + _qemu_base(
            self.accel, self.kernel, self.initrd,
            "root=/dev/vda rw console=ttyS0 quiet")
        cmd += ["-drive", "file=%s,format=raw,if=virtio" % self.disk]
        for name in self.extra_disks:
            cmd += ["-drive", "file=%s,format=raw,if=virtio" % (self.workdir / ("%s.img" % name))]
        started = time.monotonic()
        with open(log_path, "wb") as log:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT)
        seconds = time.monotonic() - started
        text = log_path.read_bytes().decode("utf-8", "replace")
        begin, end_rc, results, corrupt = parse_serial(text, self.nonce)
        boot = Boot(index, self.steps[index - 1], seconds, text, results,
                    end_rc if end_rc is not None else -1)
        self.boots.append(boot)
        problem = None
        if proc.returncode == 124:
            problem = "timed out after %d s" % self.boot_timeout
        elif proc.returncode != 0:
            problem = "qemu exited %d" % proc.returncode
        elif begin is None or not begin.startswith("%d " % index):
            problem = "step %d never began (saw BEGIN %r)" % (index, begin)
        elif end_rc is None:
            problem = "step %d never reported END" % index
        elif corrupt:
            problem = "%d result line(s) failed their crc" % len(corrupt)
        if problem:
            raise BootError("%s boot %d (%s): %s\n--- serial log tail (%s) ---\n%s" % (
                self.name, index, boot.step, problem, log_path, boot.tail()))
        return boot

    def cleanup(self):
        """Drop the disks, kernel and initrd; keep the serial logs."""
        for path in [*self.workdir.glob("*.img"), self.workdir / "vmlinuz"]:
            path.unlink(missing_ok=True)
