"""Undo what the state record says this tool created, and nothing else.

Order matters: a swap file must be switched off before its fstab line and the file go.
Each undone item leaves the record at once, so an interrupted teardown can be re-run.
"""
import logging

from cidx_sysprep import environment, fstab, state
from cidx_sysprep.logs import log_code

logger = logging.getLogger(__name__)


def plan(paths):
    entries = state.read(paths.state)
    active = {a["path"] for a in environment.active_swaps(paths)}
    steps = []
    for path in state.values(entries, state.SWAPFILE):
        if path in active:
            steps.append((f"swapoff {path}", ["swapoff", path], state.SWAPFILE, path, False))
    for line in state.values(entries, state.FSTAB):
        steps.append((f"remove {line!r} from {paths.fstab}", None, state.FSTAB, line, True))
    for path in state.values(entries, state.SWAPFILE):
        steps.append((f"remove {path}", None, state.SWAPFILE, path, True))
    for path in state.values(entries, state.SYSCTL_DROPIN):
        steps.append((f"remove {path}", None, state.SYSCTL_DROPIN, path, True))
    return entries, steps


def teardown(runner, paths, dry_run=False):
    """Returns (ok, report lines)."""
    entries, steps = plan(paths)
    lines = [("would " if dry_run else "") + description for description, *_ in steps]
    before = state.values(entries, state.OVERCOMMIT_BEFORE)
    if before:
        lines.append(f"vm.overcommit_memory stays {environment.read_overcommit(paths)} until the "
                     f"next boot (it was {before[0]}); `sysctl -w vm.overcommit_memory={before[0]}` "
                     "restores it now")
    if not steps:
        lines.insert(0, "nothing recorded as created by cidx-sysprep; nothing to undo")
    if dry_run:
        return True, lines
    for description, argv, kind, value, done in steps:
        failed = _undo(runner, paths, argv, kind, value)
        if failed:
            log_code(logger, "DEPLOY-GENERAL-120", f"{description} failed: {failed}")
            return False, lines
        if done:
            state.forget(runner, paths.state, kind, value)
    if before:
        state.forget(runner, paths.state, state.OVERCOMMIT_BEFORE, before[0])
    return True, lines


def _undo(runner, paths, argv, kind, value):
    if argv:
        result = runner.run(argv)
        return None if result.returncode == 0 else result.stderr.strip()
    if kind == state.FSTAB:
        text = fstab.read(paths.fstab)
        kept = fstab.without_line(text, value)
        return None if kept == text else runner.write_file(paths.fstab, kept)
    return runner.remove_file(value)
