"""Step 10: a swap file (default 4G at /swapfile), active and in /etc/fstab.

The story's algorithm (`swapon --show`, `fallocate`, `chmod 600`, `mkswap`, `swapon`,
fstab check and append), plus what real hosts need: containers skipped with one warning,
filesystems that cannot hold swap refused, the disk never filled, an inactive swap file
reused or recreated (a file that is not swap is never touched), btrfs made
no-copy-on-write, zeros written where swapon rejects a fallocated file, and a failed
creation leaves no partial file.
"""
import logging

from cidx_sysprep import environment, fstab, state, swapfile
from cidx_sysprep.logs import log_code

logger = logging.getLogger(__name__)

_NOCOW_FAILED = "DEPLOY-GENERAL-113"
_STEP_CODES = {"fallocate": "DEPLOY-GENERAL-093", "chmod": "DEPLOY-GENERAL-094",
               "mkswap": "DEPLOY-GENERAL-095", "swapon": "DEPLOY-GENERAL-096",
               "dd": "DEPLOY-GENERAL-112", "touch": _NOCOW_FAILED, "chattr": _NOCOW_FAILED}


def ensure_swap_file(runner, config, paths):
    """Make swap active and persistent; True when it is (or is skipped by design)."""
    try:
        if not config.swap:
            logger.debug("Swap disabled by configuration (SWAP=no)")
            return True
        manager = environment.container(paths)
        if manager:
            log_code(logger, "DEPLOY-GENERAL-108",
                     f"running in a container ({manager}): swap is the host's job; skipped")
            return True
        shown = runner.run(["swapon", "--show", "--noheadings"], privileged=False).stdout.strip()
        if shown:
            logger.debug("Swap already configured: %s", shown)
            if config.swap_file in (row.split()[0] for row in shown.splitlines()):
                _ensure_fstab_entry(runner, paths, config.swap_file)
            return True
        made = _make_active(runner, config, paths)
        if not made:
            return False
        _ensure_fstab_entry(runner, paths, config.swap_file)
        if made == swapfile.CREATE:
            logger.info("Created and enabled %sB swap file %s", config.swap_size.upper(), config.swap_file)
        else:
            logger.info("Enabled the existing swap file %s", config.swap_file)
        return True
    except Exception as exc:
        log_code(logger, "DEPLOY-GENERAL-098", f"Unexpected error provisioning swap: {exc!r}")
        return False


def _make_active(runner, config, paths):
    """Swap on at the configured path: returns CREATE or REUSE (what was done), or None."""
    path = config.swap_file
    decision = swapfile.decide(path, config.swap_bytes, paths)
    if decision.action == swapfile.REFUSE_FILESYSTEM:
        log_code(logger, "DEPLOY-GENERAL-109",
                 f"{path} would be on {decision.fstype} ({decision.mount_point}), which cannot "
                 "hold swap", fstype=decision.fstype)
        return None
    if decision.action == swapfile.REFUSE_NOT_SWAP:
        log_code(logger, "DEPLOY-GENERAL-111",
                 f"{path} exists and is not swap space; left untouched", path=path)
        return None
    if decision.action == swapfile.REFUSE_SPACE:
        log_code(logger, "DEPLOY-GENERAL-110",
                 f"{path} {decision.shortfall()}", path=path)
        return None
    if decision.action == swapfile.REUSE:
        steps = [["chmod", "600", path]] if decision.existing == swapfile.WRONG_MODE else []
        return swapfile.REUSE if _run_steps(runner, steps + [["swapon", path]], cleanup=None) else None
    if decision.existing == swapfile.STALE:
        logger.info("Recreating %s: its size or blocks do not match SWAP_SIZE=%s", path, config.swap_size)
        failed = runner.remove_file(path)
        if failed:
            log_code(logger, "DEPLOY-GENERAL-121", f"Could not remove the stale {path}: {failed}")
            return None
    if not _create(runner, config, decision.method):
        return None
    state.record(runner, paths.state, state.SWAPFILE, path)
    return swapfile.CREATE


def _create(runner, config, method):
    path = config.swap_file
    if method == swapfile.ZERO_FILL:
        allocate = [swapfile.zero_fill_argv(path, config.swap_bytes)]
    else:
        allocate = [["fallocate", "-l", config.swap_size, path]]
        if method == swapfile.NOCOW:
            allocate = [["touch", path], ["chattr", "+C", path]] + allocate
    finish = [["chmod", "600", path], ["mkswap", path], ["swapon", path]]
    rejected = []
    if _run_steps(runner, allocate + finish, cleanup=path, rejected=rejected):
        return True
    if method == swapfile.FALLOCATE and rejected:
        logger.info("swapon rejected the fallocated %s (%s); writing zeros instead", path, rejected[0])
        return _run_steps(runner, [swapfile.zero_fill_argv(path, config.swap_bytes)] + finish, cleanup=path)
    return False


def _run_steps(runner, steps, cleanup, rejected=None):
    """Run `steps` in order; on the first failure log its code and remove `cleanup`.

    A swapon refusal that zeros would cure ("holes", EINVAL) is reported through
    `rejected` instead of logged, so the caller can fall back to zero-filling.
    """
    for argv in steps:
        result = runner.run(argv)
        if result.returncode == 0:
            continue
        stderr = result.stderr.strip()
        if cleanup:
            runner.remove_file(cleanup)
        if rejected is not None and argv[0] == "swapon" and _cured_by_zeros(stderr):
            rejected.append(stderr)
            return False
        log_code(logger, _STEP_CODES[argv[0]], f"{' '.join(argv)} failed", stderr=stderr)
        return False
    return True


def _cured_by_zeros(stderr):
    return "hole" in stderr or "Invalid argument" in stderr


def _ensure_fstab_entry(runner, paths, path):
    text = fstab.read(paths.fstab)
    if fstab.entry_for(fstab.parse(text), path):
        return
    line = fstab.swap_line(path)
    failed = runner.write_file(paths.fstab, fstab.with_line(text, line))
    if failed:
        log_code(logger, "DEPLOY-GENERAL-097",
                 f"{path} is active but not in {paths.fstab}: it will not survive a reboot",
                 error=failed)
        return
    state.record(runner, paths.state, state.FSTAB, line)

