"""Step 9: vm.overcommit_memory = 1, persisted in /etc/sysctl.d/99-cidx-memory.conf.

The story's algorithm (`sysctl -n`, `tee`, `sysctl -p FILE`), plus what real hosts need:
a container or a read-only /proc/sys is skipped with one warning (the value belongs to
the host there), the effective value is read back after applying, and files that would
override ours at boot are named.
"""
import logging
import os

from cidx_sysprep import environment, state, sysctl
from cidx_sysprep.logs import log_code

logger = logging.getLogger(__name__)


def ensure_memory_overcommit(runner, config, paths):
    """Make the setting effective and persistent; True when it is (or is opted out)."""
    try:
        if not config.overcommit:
            logger.debug("Memory overcommit disabled by configuration (OVERCOMMIT=no)")
            return True
        current = runner.run(["sysctl", "-n", sysctl.KEY], privileged=False).stdout.strip()
        # Where the host owns the value (a container), 1 now is all there is to check.
        unchangeable = environment.why_sysctl_is_not_ours(paths)
        if current == sysctl.WANTED and (unchangeable or _boot_value(paths) == sysctl.WANTED):
            logger.debug("Memory overcommit already configured")
            return True
        if unchangeable:
            log_code(logger, "DEPLOY-GENERAL-107",
                     f"{unchangeable}: vm.overcommit_memory left at {current or 'unknown'}; "
                     "set it on the host")
            return True
        if not _write_dropin(runner, paths):
            return False
        applied = runner.run(["sysctl", "-p", paths.sysctl_dropin])
        if applied.returncode != 0:
            log_code(logger, "DEPLOY-GENERAL-091", f"Failed to apply {paths.sysctl_dropin}",
                     stderr=applied.stderr.strip())
            return False
        effective = environment.read_overcommit(paths)
        if effective != sysctl.WANTED:
            log_code(logger, "DEPLOY-GENERAL-105",
                     f"vm.overcommit_memory reads {effective} after sysctl -p; something "
                     "else sets it", path=paths.overcommit)
            return False
        state.record(runner, paths.state, state.OVERCOMMIT_BEFORE, current, once=True)
        logger.info("Configured vm.overcommit_memory=1 for fork safety")
        warn_boot_overrides(paths)
        return True
    except Exception as exc:
        log_code(logger, "DEPLOY-GENERAL-092",
                 f"Unexpected error configuring memory overcommit: {exc!r}")
        return False


def warn_boot_overrides(paths):
    """One warning per file line that would undo our setting at the next boot."""
    found = sysctl.boot_assignments(paths.sysctl_dirs, paths.sysctl_conf)
    for path, number, value in sysctl.overrides(found, paths.sysctl_dropin):
        log_code(logger, "DEPLOY-GENERAL-106",
                 f"{path}:{number} sets {sysctl.KEY} = {value} and wins at boot (sysctl.d "
                 "order): remove or change that line", file=path, line=number)


def _boot_value(paths):
    found = sysctl.boot_assignments(paths.sysctl_dirs, paths.sysctl_conf)
    return found[-1][2] if found else None


def _write_dropin(runner, paths):
    """Write the drop-in unless it already says 1 (an operator's edit stays)."""
    if sysctl.file_value(paths.sysctl_dropin) == sysctl.WANTED:
        return True
    existed = os.path.exists(paths.sysctl_dropin)
    written = runner.run(["tee", paths.sysctl_dropin], input=sysctl.DROPIN_TEXT)
    if written.returncode != 0:
        log_code(logger, "DEPLOY-GENERAL-090", f"Failed to write {paths.sysctl_dropin}",
                 stderr=written.stderr.strip())
        return False
    if not existed:
        state.record(runner, paths.state, state.SYSCTL_DROPIN, paths.sysctl_dropin)
    return True

