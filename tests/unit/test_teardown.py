"""Teardown undoes exactly what the record lists, in a safe order, and can be re-run."""
import os

from cidx_sysprep import state
from cidx_sysprep.teardown import teardown
from tests.unit.conftest import FSTAB, SWAPS_HEADER, records, write


def created_everything(paths):
    swapfile = paths.at("/swapfile")
    line = f"{swapfile} none swap sw 0 0"
    write(swapfile, "swap")
    write(paths.sysctl_dropin, "vm.overcommit_memory = 1\n")
    write(paths.fstab, FSTAB + line + "\n# after\n")
    write(paths.swaps, SWAPS_HEADER + f"{swapfile} file 64 0 -2\n")
    write(paths.overcommit, "1\n")
    write(paths.state, state.render([(state.OVERCOMMIT_BEFORE, "0"), (state.SYSCTL_DROPIN, paths.sysctl_dropin),
                                     (state.SWAPFILE, swapfile), (state.FSTAB, line)]))
    return swapfile


def test_nothing_recorded_means_nothing_to_undo(fp, paths, root_runner):
    ok, lines = teardown(root_runner, paths)
    assert ok is True
    assert lines == ["nothing recorded as created by cidx-sysprep; nothing to undo"]
    assert list(fp.calls) == []


def test_undoes_everything_recorded_and_nothing_else(fp, paths, root_runner):
    swapfile = created_everything(paths)
    fp.register(["swapoff", swapfile])

    ok, lines = teardown(root_runner, paths)

    assert ok is True
    assert list(fp.calls) == [["swapoff", swapfile]]
    with open(paths.fstab) as f:
        assert f.read() == FSTAB + "# after\n"
    assert not os.path.exists(swapfile) and not os.path.exists(paths.sysctl_dropin)
    assert not os.path.exists(paths.state)
    assert lines[-1] == ("vm.overcommit_memory stays 1 until the next boot (it was 0); "
                         "`sysctl -w vm.overcommit_memory=0` restores it now")


def test_failed_swapoff_stops_before_removing_anything(fp, paths, root_runner, logs):
    swapfile = created_everything(paths)
    recorded = state.read(paths.state)
    fp.register(["swapoff", swapfile], returncode=255, stderr="swapoff: Cannot allocate memory")

    ok, _ = teardown(root_runner, paths)

    assert ok is False
    assert os.path.exists(swapfile)
    assert state.read(paths.state) == recorded
    [(level, message)] = records(logs, "DEPLOY-GENERAL-120")
    assert level == "ERROR" and "Cannot allocate memory" in message


def test_dry_run_changes_nothing(fp, paths, root_runner):
    swapfile = created_everything(paths)
    ok, lines = teardown(root_runner, paths, dry_run=True)
    assert ok is True
    assert lines[:2] == [f"would swapoff {swapfile}",
                         f"would remove '{swapfile} none swap sw 0 0' from {paths.fstab}"]
    assert list(fp.calls) == [] and os.path.exists(swapfile)


def test_rerun_after_an_interrupted_teardown(fp, paths, root_runner):
    swapfile = created_everything(paths)
    write(paths.swaps, SWAPS_HEADER)  # already switched off
    os.unlink(swapfile)               # and already removed

    ok, _ = teardown(root_runner, paths)

    assert ok is True and list(fp.calls) == []
    assert not os.path.exists(paths.state)
