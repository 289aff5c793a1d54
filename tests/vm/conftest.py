"""Fixtures for the VM suite: the packages under test, machines booted lazily, and a
summary of what every scenario measured, printed at the end of the run."""
import os
import shutil
import time
from pathlib import Path

import pytest

from tests import rootfs
from tests.vm.harness import REPO, BootError, Machine

DIST = Path(os.environ.get("CIDX_SYSPREP_DIST", REPO / "dist"))
_measured = []  # (scenario, line) in the order tests recorded them
_timings = []  # (what, seconds)


def record(scenario, line):
    _measured.append((scenario, line))


@pytest.fixture(scope="session")
def dist():
    """The repositories `make packages` builds: dist/apt/ and one .noarch.rpm."""
    apt = DIST / "apt"
    rpms = sorted(DIST.glob("cidx-sysprep-*.noarch.rpm")) or sorted(
        DIST.glob("rpm/cidx-sysprep-*.noarch.rpm"))
    if not (apt / "Packages").exists() or not rpms:
        pytest.fail("no packages in %s (dist/apt/Packages and cidx-sysprep-*.noarch.rpm): "
                    "run `make packages` first (make test-vm does)" % DIST)
    return {"apt": apt, "rpm": rpms[-1]}


class LazyMachine:
    """A machine whose boots happen when a test first needs their results.

    Boot k runs after boots 1..k-1; a boot that failed fails every later request with
    the same error (and its serial log tail), instead of booting on from a bad state.
    """

    def __init__(self, machine):
        self.machine = machine
        self.error = None
        self.built = False

    def boot(self, k):
        __tracebackhide__ = True
        if self.error:
            raise self.error
        try:
            if not self.built:
                seconds = self.machine.build()
                _timings.append(("%s: build disk image" % self.machine.name, seconds))
                self.built = True
            while len(self.machine.boots) < k:
                boot = self.machine.boot()
                _timings.append(("%s: boot %d (%s, %s)" % (
                    self.machine.name, boot.index, self.machine.accel, boot.step), boot.seconds))
        except BootError as exc:
            self.error = exc
            raise
        return self.machine.boots[k - 1].results


@pytest.fixture(scope="module")
def machine_factory():
    """Machines work in .cache/vm/NAME/, where the serial logs of the last run stay."""
    made = []

    def make(name, steps, files, extra_disks=None):
        workdir = rootfs.CACHE / "vm" / name
        if workdir.exists():
            shutil.rmtree(workdir)
        machine = Machine(name, workdir, steps, files, extra_disks or {})
        made.append(machine)
        return LazyMachine(machine)

    yield make
    for machine in made:
        machine.cleanup()  # disk images are big; serial logs stay in pytest's tmp dir


def pytest_terminal_summary(terminalreporter):
    if not _measured and not _timings:
        return
    terminalreporter.section("VM scenarios: what was measured inside the guests")
    for scenario, line in sorted(_measured, key=lambda m: m[0].split()[0]):  # scenario order
        terminalreporter.write_line("[%s] %s" % (scenario, line))
    if _timings:
        terminalreporter.section("VM timings")
        for what, seconds in _timings:
            terminalreporter.write_line("%6.1f s  %s" % (seconds, what))


@pytest.fixture(scope="session", autouse=True)
def _session_clock():
    started = time.monotonic()
    rootfs.base_rootfs()  # mmdebstrap on a cold cache (about 100 s), else nothing
    _timings.append(("Debian 12 rootfs (mmdebstrap, cached in ~/.cache/cidx-sysprep/)",
                     time.monotonic() - started))
    yield
    _timings.append(("the whole VM session", time.monotonic() - started))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed assertion on a booted machine shows where its serial logs are, and the
    tail of the latest one (a boot that failed outright says so in its own error)."""
    outcome = yield
    report = outcome.get_result()
    lazy = getattr(item, "funcargs", {}).get("vm")
    if report.when != "call" or not report.failed or not isinstance(lazy, LazyMachine):
        return
    boots = lazy.machine.boots
    if boots:
        logs = sorted(str(p) for p in lazy.machine.workdir.glob("serial-*.log"))
        report.sections.append(("%s serial logs" % lazy.machine.name, "\n".join(logs)))
        report.sections.append(("tail of %s boot %d" % (lazy.machine.name, boots[-1].index),
                                boots[-1].tail(40)))
