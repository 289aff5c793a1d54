"""Step 9 beyond the story: containers, read-back, boot-time overrides, the record."""
import pytest

from cidx_sysprep import environment, state
from cidx_sysprep.config import Config
from cidx_sysprep.overcommit import ensure_memory_overcommit
from cidx_sysprep.sysctl import DROPIN_TEXT
from tests.unit.conftest import records, write

SYSCTL_N = ["sysctl", "-n", "vm.overcommit_memory"]


def applies(paths, value="1"):
    return lambda process: write(paths.overcommit, value + "\n")


def test_shipped_dropin_is_what_the_tool_writes():
    # dpkg must see the tool's file as the package's own conffile: byte-identical.
    with open("conf/99-cidx-memory.conf") as f:
        assert f.read() == DROPIN_TEXT


def test_opt_out_runs_nothing(fp, paths, root_runner, logs):
    assert ensure_memory_overcommit(root_runner, Config(overcommit=False), paths) is True
    assert list(fp.calls) == []
    assert records(logs) == [("DEBUG", "Memory overcommit disabled by configuration (OVERCOMMIT=no)")]


def test_read_only_proc_sys_is_skipped_with_one_warning(fp, paths, config, root_runner, logs, monkeypatch):
    monkeypatch.setattr(environment, "proc_sys_read_only", lambda p: True)
    fp.register(SYSCTL_N, stdout="0\n")

    assert ensure_memory_overcommit(root_runner, config, paths) is True

    assert list(fp.calls) == [SYSCTL_N]
    [(level, message)] = records(logs)
    assert level == "WARNING" and message.startswith("DEPLOY-GENERAL-107: ")


def test_value_that_does_not_stick_is_an_error(fp, paths, config, root_runner, logs):
    fp.register(SYSCTL_N, stdout="0\n")
    fp.register(["tee", paths.sysctl_dropin], callback=lambda p: write(paths.sysctl_dropin, DROPIN_TEXT))
    fp.register(["sysctl", "-p", paths.sysctl_dropin], callback=applies(paths, "0"))

    assert ensure_memory_overcommit(root_runner, config, paths) is False

    [(level, message)] = records(logs, "DEPLOY-GENERAL-105")
    assert level == "ERROR" and "reads 0 after sysctl -p" in message


def test_dropin_already_saying_1_is_applied_not_rewritten(fp, paths, config, root_runner):
    edited = "# kept by the operator\nvm.overcommit_memory=1\n"
    write(paths.sysctl_dropin, edited)
    fp.register(SYSCTL_N, stdout="0\n")
    fp.register(["sysctl", "-p", paths.sysctl_dropin], callback=applies(paths))

    assert ensure_memory_overcommit(root_runner, config, paths) is True

    assert list(fp.calls) == [SYSCTL_N, ["sysctl", "-p", paths.sysctl_dropin]]
    with open(paths.sysctl_dropin) as f:
        assert f.read() == edited
    assert state.values(state.read(paths.state), state.SYSCTL_DROPIN) == []  # not ours


def test_effective_1_without_a_boot_setting_gets_persisted(fp, paths, config, root_runner):
    fp.register(SYSCTL_N, stdout="1\n")
    fp.register(["tee", paths.sysctl_dropin], callback=lambda p: write(paths.sysctl_dropin, DROPIN_TEXT))
    fp.register(["sysctl", "-p", paths.sysctl_dropin], callback=applies(paths))

    assert ensure_memory_overcommit(root_runner, config, paths) is True

    assert [c[0] for c in fp.calls] == ["sysctl", "tee", "sysctl"]


def test_first_configuration_is_recorded(fp, paths, config, root_runner):
    fp.register(SYSCTL_N, stdout="0\n")
    fp.register(["tee", paths.sysctl_dropin], callback=lambda p: write(paths.sysctl_dropin, DROPIN_TEXT))
    fp.register(["sysctl", "-p", paths.sysctl_dropin], callback=applies(paths))

    assert ensure_memory_overcommit(root_runner, config, paths) is True

    assert state.read(paths.state) == [(state.SYSCTL_DROPIN, paths.sysctl_dropin),
                                       (state.OVERCOMMIT_BEFORE, "0")]


@pytest.mark.parametrize("where, line", [("/etc/sysctl.conf", 3), ("/etc/sysctl.d/99-zz-tuning.conf", 1)])
def test_boot_time_override_is_named_by_file_and_line(fp, paths, config, root_runner, logs, where, line):
    text = "vm.overcommit_memory = 0\n" if line == 1 else "# tuning\nvm.swappiness=10\nvm.overcommit_memory = 0\n"
    write(paths.at(where), text)
    fp.register(SYSCTL_N, stdout="0\n")
    fp.register(["tee", paths.sysctl_dropin], callback=lambda p: write(paths.sysctl_dropin, DROPIN_TEXT))
    fp.register(["sysctl", "-p", paths.sysctl_dropin], callback=applies(paths))

    assert ensure_memory_overcommit(root_runner, config, paths) is True

    [(level, message)] = records(logs, "DEPLOY-GENERAL-106")
    assert level == "WARNING"
    assert f"{paths.at(where)}:{line} sets vm.overcommit_memory = 0" in message


def test_an_earlier_file_does_not_count_as_override(fp, paths, config, root_runner, logs):
    write(paths.at("/usr/lib/sysctl.d/50-default.conf"), "vm.overcommit_memory = 0\n")
    write(paths.sysctl_dropin, DROPIN_TEXT)
    fp.register(SYSCTL_N, stdout="1\n")

    assert ensure_memory_overcommit(root_runner, config, paths) is True

    assert records(logs) == [("DEBUG", "Memory overcommit already configured")]


def test_privileged_container_never_changes_the_hosts_value(fp, paths, config, root_runner, logs):
    # /proc/sys is writable here, but the setting is not namespaced: writing it from a
    # container would change it for the host and every other container.
    write(paths.container_markers[0], "docker\n")
    fp.register(SYSCTL_N, stdout="0\n")

    assert ensure_memory_overcommit(root_runner, config, paths) is True

    assert list(fp.calls) == [SYSCTL_N]
    [(level, message)] = records(logs)
    assert level == "WARNING"
    assert message.startswith("DEPLOY-GENERAL-107: running in a container (docker): vm.overcommit_memory left at 0")


def test_container_whose_host_already_has_1_is_a_quiet_skip(fp, paths, config, root_runner, logs):
    write(paths.container_markers[2], "")
    fp.register(SYSCTL_N, stdout="1\n")

    assert ensure_memory_overcommit(root_runner, config, paths) is True

    assert list(fp.calls) == [SYSCTL_N]
    assert records(logs) == [("DEBUG", "Memory overcommit already configured")]
