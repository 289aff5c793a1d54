"""The story's named tests for Steps 9 and 10 and their wiring into execute().

Commands are faked with pytest-subprocess and asserted in order, with `sudo` in front
because the executor's runner here is not root (as the story's auto-updater may be).
Bookkeeping writes of the state record (also through sudo) are registered once in a
fixture and filtered out of the story's sequences, and checked on their own.
"""
import os

import pytest

from cidx_sysprep.auto_update.deployment_executor import DeploymentExecutor
from cidx_sysprep.sysctl import DROPIN_TEXT
from tests.unit.conftest import records, write

SYSCTL_N = ["sysctl", "-n", "vm.overcommit_memory"]
SWAPON_SHOW = ["swapon", "--show", "--noheadings"]


@pytest.fixture
def executor(paths, config, sudo_runner):
    return DeploymentExecutor("/srv/cidx", "/srv/cidx/.venv", "cidx-server",
                              runner=sudo_runner, config=config, paths=paths)


@pytest.fixture
def state_writes(fp, paths):
    """Let the state record's sudo writes through; they are checked separately."""
    tmp = f"{paths.state}.cidx-sysprep.tmp"
    for argv in (["sudo", "mkdir", "-p", os.path.dirname(paths.state)], ["sudo", "tee", tmp],
                 ["sudo", "chmod", "644", tmp], ["sudo", "sync", tmp],
                 ["sudo", "mv", "-f", tmp, paths.state], ["sudo", "cp", "-p", paths.state, tmp]):
        fp.register(argv, occurrences=20)
    return tmp


def story_calls(fp, paths):
    """The commands run, without the state record's bookkeeping."""
    state_dir = os.path.dirname(paths.state)
    return [list(c) for c in fp.calls if not any(state_dir in str(a) for a in c)]


def set_effective(paths, value):
    def callback(process):
        write(paths.overcommit, value + "\n")
    return callback


# --- _ensure_memory_overcommit() -----------------------------------------------------

def test_memory_overcommit_already_configured(fp, executor, paths, logs):
    write(paths.sysctl_dropin, DROPIN_TEXT)
    fp.register(SYSCTL_N, stdout="1\n")

    assert executor._ensure_memory_overcommit() is True

    assert story_calls(fp, paths) == [SYSCTL_N]
    assert records(logs) == [("DEBUG", "Memory overcommit already configured")]


def test_memory_overcommit_configures_successfully(fp, executor, paths, logs, state_writes):
    written = []
    fp.register(SYSCTL_N, stdout="0\n")
    fp.register(["sudo", "tee", paths.sysctl_dropin], stdin_callable=written.append)
    fp.register(["sudo", "sysctl", "-p", paths.sysctl_dropin], callback=set_effective(paths, "1"))

    assert executor._ensure_memory_overcommit() is True

    assert story_calls(fp, paths) == [
        SYSCTL_N,
        ["sudo", "tee", paths.sysctl_dropin],
        ["sudo", "sysctl", "-p", paths.sysctl_dropin],
    ]
    assert [w.decode() if isinstance(w, bytes) else w for w in written] == [DROPIN_TEXT]
    assert "vm.overcommit_memory = 1\n" in DROPIN_TEXT
    assert ("INFO", "Configured vm.overcommit_memory=1 for fork safety") in records(logs)
    assert [level for level, _ in records(logs)] == ["INFO"]


def test_memory_overcommit_write_failure(fp, executor, paths, logs):
    fp.register(SYSCTL_N, stdout="0\n")
    fp.register(["sudo", "tee", paths.sysctl_dropin], returncode=1,
                stderr="tee: /etc/sysctl.d/99-cidx-memory.conf: Read-only file system\n")

    assert executor._ensure_memory_overcommit() is False

    assert story_calls(fp, paths) == [SYSCTL_N, ["sudo", "tee", paths.sysctl_dropin]]
    [(level, message)] = records(logs, "DEPLOY-GENERAL-090")
    assert level == "ERROR"
    assert "Read-only file system" in message and "correlation_id=" in message


def test_memory_overcommit_apply_failure(fp, executor, paths, logs, state_writes):
    fp.register(SYSCTL_N, stdout="0\n")
    fp.register(["sudo", "tee", paths.sysctl_dropin])
    fp.register(["sudo", "sysctl", "-p", paths.sysctl_dropin], returncode=255,
                stderr="sysctl: permission denied on key \"vm.overcommit_memory\"\n")

    assert executor._ensure_memory_overcommit() is False

    assert story_calls(fp, paths)[-1] == ["sudo", "sysctl", "-p", paths.sysctl_dropin]
    [(level, message)] = records(logs, "DEPLOY-GENERAL-091")
    assert level == "ERROR" and "permission denied" in message


def test_memory_overcommit_exception_handling(fp, executor, paths, logs):
    fp.register(SYSCTL_N, callback=lambda process: (_ for _ in ()).throw(OSError("exec format error")))

    assert executor._ensure_memory_overcommit() is False

    [(level, message)] = records(logs, "DEPLOY-GENERAL-092")
    assert level == "ERROR" and "exec format error" in message


# --- _ensure_swap_file() -------------------------------------------------------------

def creation(path):
    return [["sudo", "fallocate", "-l", "4G", path], ["sudo", "chmod", "600", path],
            ["sudo", "mkswap", path], ["sudo", "swapon", path]]


def register_creation(fp, path, failing=None, stderr="", returncode=1):
    for argv in creation(path):
        if argv[1] == failing:
            fp.register(argv, returncode=returncode, stderr=stderr)
            return
        fp.register(argv)


def fstab_writes(paths):
    tmp = f"{paths.fstab}.cidx-sysprep.tmp"
    return [["sudo", "cp", "-p", paths.fstab, tmp], ["sudo", "tee", tmp], ["sudo", "sync", tmp],
            ["sudo", "mv", "-f", tmp, paths.fstab]]


def test_swap_already_exists(fp, executor, paths, logs):
    fp.register(SWAPON_SHOW, stdout="/dev/vda2 partition 2G 0B -2\n")

    assert executor._ensure_swap_file() is True

    assert story_calls(fp, paths) == [SWAPON_SHOW]
    assert records(logs) == [("DEBUG", "Swap already configured: /dev/vda2 partition 2G 0B -2")]


def test_swap_creates_full_sequence(fp, executor, paths, config, logs, state_writes):
    appended = []
    fp.register(SWAPON_SHOW, stdout="")
    register_creation(fp, config.swap_file)
    cp, tee, sync, mv = fstab_writes(paths)
    fp.register(cp)
    fp.register(tee, stdin_callable=appended.append)
    fp.register(sync)
    fp.register(mv)

    assert executor._ensure_swap_file() is True

    assert story_calls(fp, paths) == [SWAPON_SHOW, *creation(config.swap_file), cp, tee, sync, mv]
    text = appended[0].decode() if isinstance(appended[0], bytes) else appended[0]
    with open(paths.fstab) as f:
        assert text == f.read() + f"{config.swap_file} none swap sw 0 0\n"
    assert ("INFO", f"Created and enabled 4GB swap file {config.swap_file}") in records(logs)


def test_swap_fallocate_failure(fp, executor, paths, config, logs):
    fp.register(SWAPON_SHOW, stdout="")
    register_creation(fp, config.swap_file, failing="fallocate",
                      stderr="fallocate: fallocate failed: No space left on device")
    fp.register(["sudo", "rm", "-f", config.swap_file])

    assert executor._ensure_swap_file() is False

    assert story_calls(fp, paths)[-2:] == [creation(config.swap_file)[0],
                                           ["sudo", "rm", "-f", config.swap_file]]
    [(level, message)] = records(logs, "DEPLOY-GENERAL-093")
    assert level == "ERROR" and "No space left" in message


def _swap_step_failure(fp, executor, paths, config, logs, step, code):
    fp.register(SWAPON_SHOW, stdout="")
    register_creation(fp, config.swap_file, failing=step, stderr=f"{step}: Operation not permitted")
    fp.register(["sudo", "rm", "-f", config.swap_file])

    assert executor._ensure_swap_file() is False

    steps = [argv[1] for argv in creation(config.swap_file)]
    ran = story_calls(fp, paths)
    assert ran[1:] == creation(config.swap_file)[:steps.index(step) + 1] + [
        ["sudo", "rm", "-f", config.swap_file]]  # no partial file is left behind
    [(level, message)] = records(logs, code)
    assert level == "ERROR" and "Operation not permitted" in message
    assert not os.path.exists(paths.fstab + ".cidx-sysprep.tmp")


def test_swap_chmod_failure(fp, executor, paths, config, logs):
    _swap_step_failure(fp, executor, paths, config, logs, "chmod", "DEPLOY-GENERAL-094")


def test_swap_mkswap_failure(fp, executor, paths, config, logs):
    _swap_step_failure(fp, executor, paths, config, logs, "mkswap", "DEPLOY-GENERAL-095")


def test_swap_swapon_failure(fp, executor, paths, config, logs):
    _swap_step_failure(fp, executor, paths, config, logs, "swapon", "DEPLOY-GENERAL-096")


def test_swap_fstab_already_contains_entry(fp, executor, paths, config, logs, state_writes):
    with open(paths.fstab, "a") as f:
        f.write(f"{config.swap_file}\tnone\tswap\tsw\t0\t0\n")
    with open(paths.fstab) as f:
        before = f.read()
    fp.register(SWAPON_SHOW, stdout="")
    register_creation(fp, config.swap_file)

    assert executor._ensure_swap_file() is True

    assert story_calls(fp, paths) == [SWAPON_SHOW, *creation(config.swap_file)]  # no append
    with open(paths.fstab) as f:
        assert f.read() == before


def test_swap_fstab_append_failure_non_fatal(fp, executor, paths, config, logs, state_writes):
    fp.register(SWAPON_SHOW, stdout="")
    register_creation(fp, config.swap_file)
    cp, tee, _, _ = fstab_writes(paths)
    fp.register(cp)
    fp.register(tee, returncode=1, stderr="tee: /etc/fstab.cidx-sysprep.tmp: Read-only file system")
    fp.register(["sudo", "rm", "-f", tee[-1]])

    assert executor._ensure_swap_file() is True

    [(level, message)] = records(logs, "DEPLOY-GENERAL-097")
    assert level == "WARNING" and "Read-only file system" in message
    assert ["sudo", "rm", "-f", tee[-1]] in story_calls(fp, paths)  # its temp file is gone


def test_swap_exception_handling(fp, executor, paths, logs):
    fp.register(SWAPON_SHOW, callback=lambda process: (_ for _ in ()).throw(PermissionError("denied")))

    assert executor._ensure_swap_file() is False

    [(level, message)] = records(logs, "DEPLOY-GENERAL-098")
    assert level == "ERROR" and "denied" in message


# --- execute() wiring ----------------------------------------------------------------

STEPS = ["_git_pull", "_pip_install", "_ensure_sudoers_restart", "_ensure_sysprep_package",
         "_ensure_memory_overcommit", "_ensure_swap_file", "_restart_server"]


@pytest.fixture
def recorded(executor, monkeypatch):
    """Replace every step by a recorder; `results` sets what each returns."""
    order, results = [], {}

    def stub(name):
        def step():
            order.append(name)
            return results.get(name, True)
        return step

    for name in STEPS:
        monkeypatch.setattr(executor, name, stub(name))
    return order, results


def test_execute_calls_memory_overcommit_after_sudoers(executor, recorded):
    order, _ = recorded
    assert executor.execute() is True
    assert order.index("_ensure_memory_overcommit") > order.index("_ensure_sudoers_restart")
    assert order == STEPS


def test_execute_calls_swap_file_after_memory_overcommit(executor, recorded):
    order, _ = recorded
    executor.execute()
    assert order.index("_ensure_swap_file") == order.index("_ensure_memory_overcommit") + 1


def test_execute_continues_on_memory_overcommit_failure(executor, recorded, logs):
    order, results = recorded
    results["_ensure_memory_overcommit"] = False

    assert executor.execute() is True

    assert order[-2:] == ["_ensure_swap_file", "_restart_server"]
    [(level, message)] = records(logs, "DEPLOY-GENERAL-099")
    assert level == "WARNING" and "ENOMEM" in message


def test_execute_continues_on_swap_file_failure(executor, recorded, logs):
    order, results = recorded
    results["_ensure_swap_file"] = False

    assert executor.execute() is True

    assert order[-1] == "_restart_server"
    [(level, message)] = records(logs, "DEPLOY-GENERAL-100")
    assert level == "WARNING" and "no swap safety net" in message
