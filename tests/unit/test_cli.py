"""The command line: exit codes, output, --json, --dry-run, and no fork when converged."""
import json
import os

import pytest

from cidx_sysprep import __version__
from cidx_sysprep.cli import main
from cidx_sysprep.sysctl import DROPIN_TEXT
from tests.unit.conftest import SWAPS_HEADER, write


@pytest.fixture
def conf(paths, tmp_path, monkeypatch):
    path = tmp_path / "cidx-sysprep.conf"
    path.write_text(f"SWAP_FILE={paths.at('/swapfile')}\nSWAP_SIZE=64K\n")
    monkeypatch.setenv("CIDX_SYSPREP_CONFIG", str(path))
    for key in ("CIDX_SYSPREP_SWAP", "CIDX_SYSPREP_OVERCOMMIT"):
        monkeypatch.delenv(key, raising=False)
    return path


def provisioned(paths):
    swapfile = paths.at("/swapfile")
    write(paths.overcommit, "1\n")
    write(paths.sysctl_dropin, DROPIN_TEXT)
    write(paths.swaps, SWAPS_HEADER + f"{swapfile}                               file\t\t65532\t\t0\t\t-2\n")
    with open(paths.fstab, "a") as f:
        f.write(f"{swapfile} none swap sw 0 0\n")


def snapshot(root):
    tree = {}
    for directory, _, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            with open(path, "rb") as f:
                tree[path] = (f.read(), os.stat(path).st_mtime_ns)
    return tree


def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"cidx-sysprep {__version__}\n"
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: cidx-sysprep") and "provision [--dry-run] [--json]" in out


@pytest.mark.parametrize("argv, message", [
    ([], "a command is needed"),
    (["frobnicate"], "unknown command 'frobnicate'"),
    (["status", "--dry-run"], "status does not take '--dry-run'"),
    (["teardown", "--json"], "teardown does not take '--json'"),
    (["--config"], "--config needs a file name"),
])
def test_usage_errors_exit_2_and_say_what(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "cidx-sysprep --help" in err


def test_invalid_configuration_exits_2_with_its_code(paths, tmp_path, capsys):
    bad = tmp_path / "bad.conf"
    bad.write_text("SWAP=maybe\n")
    assert main(["--config", str(bad), "status"], paths=paths) == 2
    assert f"DEPLOY-GENERAL-115: {bad}:1: SWAP='maybe': use yes or no" in capsys.readouterr().err


def test_status_of_an_unprovisioned_host_exits_1(fp, paths, conf, capsys):
    assert main(["status"], paths=paths) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "overcommit  MISSING  vm.overcommit_memory = 0 now, not set at boot"
    assert out[1] == "swap        MISSING  no active swap"
    assert out[-1] == "host is NOT provisioned: run `cidx-sysprep provision` (as root)"
    assert list(fp.calls) == []


def test_status_json_of_a_provisioned_host_exits_0(fp, paths, conf, capsys):
    provisioned(paths)
    assert main(["status", "--json"], paths=paths) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["schema"] == 1 and status["provisioned"] is True and status["problems"] == []
    assert status["overcommit"]["effective"] == "1"
    assert status["overcommit"]["boot_source"] == f"{paths.sysctl_dropin}:4"
    [area] = status["swap"]["active"]
    assert area == {"path": paths.at("/swapfile"), "type": "file", "size_bytes": 65532 * 1024,
                    "used_bytes": 0, "priority": -2, "in_fstab": True,
                    "recreated_by": None}
    assert list(fp.calls) == []


def test_converged_provision_runs_no_command(fp, paths, conf, capsys):
    provisioned(paths)
    before = snapshot(paths.root)
    assert main(["provision"], paths=paths) == 0  # fp raises on any unregistered command
    assert list(fp.calls) == []
    assert capsys.readouterr().out.splitlines()[0] == "nothing to do"
    assert snapshot(paths.root) == before


def test_dry_run_says_what_and_changes_nothing(fp, paths, conf, capsys):
    before = snapshot(paths.root)
    assert main(["provision", "--dry-run"], paths=paths) == 0
    out = capsys.readouterr().out.splitlines()
    swapfile = paths.at("/swapfile")
    assert out[:4] == [
        f"would write {paths.sysctl_dropin} (vm.overcommit_memory = 1)",
        f"would apply it: sysctl -p {paths.sysctl_dropin}",
        f"would create {swapfile} (64K, fallocate on ext4), chmod 600, mkswap, swapon {swapfile}",
        f"would add '{swapfile} none swap sw 0 0' to {paths.fstab} unless present",
    ]
    assert list(fp.calls) == []
    assert snapshot(paths.root) == before


def test_provision_makes_the_host_provisioned(fp, paths, conf, capsys):
    swapfile = paths.at("/swapfile")
    fp.register(["sysctl", "-n", "vm.overcommit_memory"], stdout="0\n")
    fp.register(["tee", paths.sysctl_dropin], callback=lambda p: write(paths.sysctl_dropin, DROPIN_TEXT))
    fp.register(["sysctl", "-p", paths.sysctl_dropin], callback=lambda p: write(paths.overcommit, "1\n"))
    fp.register(["swapon", "--show", "--noheadings"])
    for argv in (["fallocate", "-l", "64K", swapfile], ["chmod", "600", swapfile], ["mkswap", swapfile]):
        fp.register(argv)
    fp.register(["swapon", swapfile], callback=lambda p: write(
        paths.swaps, SWAPS_HEADER + f"{swapfile} file 64 0 -2\n"))

    assert main(["provision", "--json"], paths=paths) == 0

    document = json.loads(capsys.readouterr().out)
    assert document["results"] == {"overcommit": True, "swap": True}
    assert document["status"]["provisioned"] is True
    assert main(["status"], paths=paths) == 0


def test_failed_step_exits_1_and_names_its_code(fp, paths, conf, capsys):
    write(paths.overcommit, "1\n")
    write(paths.sysctl_dropin, DROPIN_TEXT)
    fp.register(["swapon", "--show", "--noheadings"])
    fp.register(["fallocate", "-l", "64K", paths.at("/swapfile")], returncode=1,
                stderr="fallocate: Operation not supported")

    assert main(["provision"], paths=paths) == 1

    captured = capsys.readouterr()
    assert "cidx-sysprep: ERROR DEPLOY-GENERAL-093:" in captured.err
    assert captured.out.splitlines()[-1].startswith("host is NOT provisioned")


def test_container_provision_exits_0_with_the_warning(fp, paths, conf, capsys):
    write(paths.overcommit, "1\n")
    write(paths.sysctl_dropin, DROPIN_TEXT)
    write(paths.container_markers[1], "")

    assert main(["provision"], paths=paths) == 0

    assert "WARNING DEPLOY-GENERAL-108: running in a container (docker)" in capsys.readouterr().err
    assert list(fp.calls) == []


def test_swap_opt_out_from_the_environment(fp, paths, conf, capsys, monkeypatch):
    write(paths.overcommit, "1\n")
    write(paths.sysctl_dropin, DROPIN_TEXT)
    monkeypatch.setenv("CIDX_SYSPREP_SWAP", "no")
    assert main(["status"], paths=paths) == 0
    assert "swap        off      disabled by configuration (SWAP=no)" in capsys.readouterr().out


def test_in_a_container_the_host_provides_persistence(fp, paths, conf, capsys):
    write(paths.container_markers[1], "")
    write(paths.overcommit, "1\n")
    write(paths.swaps, SWAPS_HEADER + "/dev/zram0 partition 1024 0 100\n")
    assert main(["status"], paths=paths) == 0
    assert main(["provision"], paths=paths) == 0
    assert list(fp.calls) == []
    assert capsys.readouterr().out.splitlines()[-1] == "host is provisioned"
