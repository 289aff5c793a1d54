"""The executor's other steps: deploy (fatal), sudoers and the package (warnings), restart."""
import os

import pytest

from cidx_sysprep.auto_update import run_once
from cidx_sysprep.auto_update.deployment_executor import APT_INSTALL, DNF_INSTALL, DeploymentExecutor
from tests.unit.conftest import records

GIT = ["git", "-C", "/srv/cidx", "pull", "--ff-only"]
PIP = ["/srv/venv/bin/pip", "install", "--quiet", "--disable-pip-version-check", "/srv/cidx"]
RESTART = ["systemctl", "restart", "cidx-server"]


def make(paths, config, runner, user="root", tools=("apt-get",)):
    return DeploymentExecutor("/srv/cidx", "/srv/venv", "cidx-server", service_user=user,
                              runner=runner, config=config, paths=paths,
                              which=lambda name: f"/usr/bin/{name}" if name in tools else None)


@pytest.fixture
def host_ready(monkeypatch):
    """Steps 9 and 10 find everything in place (they have tests of their own)."""
    monkeypatch.setattr(DeploymentExecutor, "_ensure_memory_overcommit", lambda self: True)
    monkeypatch.setattr(DeploymentExecutor, "_ensure_swap_file", lambda self: True)


def test_full_deployment_runs_its_commands_in_order(fp, paths, config, root_runner, host_ready):
    for argv in (GIT, PIP, APT_INSTALL, RESTART):
        fp.register(argv)
    assert make(paths, config, root_runner).execute() is True
    assert list(fp.calls) == [GIT, PIP, APT_INSTALL, RESTART]


def test_package_install_is_unattended_and_keeps_edited_conffiles():
    assert APT_INSTALL[:2] == ["env", "DEBIAN_FRONTEND=noninteractive"]
    assert "-y" in APT_INSTALL and "Dpkg::Options::=--force-confold" in APT_INSTALL
    assert DNF_INSTALL == ["dnf", "install", "-y", "-q", "cidx-sysprep"]


def test_dnf_is_used_where_there_is_no_apt(fp, paths, config, sudo_runner):
    fp.register(["sudo", *DNF_INSTALL])
    assert make(paths, config, sudo_runner, tools=("dnf",))._ensure_sysprep_package() is True
    assert list(fp.calls) == [["sudo", *DNF_INSTALL]]


def test_no_package_manager_is_a_warning(fp, paths, config, root_runner, logs):
    assert make(paths, config, root_runner, tools=())._ensure_sysprep_package() is False
    assert records(logs, "DEPLOY-GENERAL-102")[0][0] == "WARNING"


def test_failed_package_install_warns_and_the_deployment_goes_on(fp, paths, config, root_runner,
                                                                  host_ready, logs):
    fp.register(GIT)
    fp.register(PIP)
    fp.register(APT_INSTALL, returncode=100, stderr="E: Unable to locate package cidx-sysprep")
    fp.register(RESTART)

    assert make(paths, config, root_runner).execute() is True

    assert records(logs, "DEPLOY-GENERAL-103")[0][0] == "WARNING"
    assert "Unable to locate package" in records(logs, "DEPLOY-GENERAL-103")[0][1]
    assert records(logs, "DEPLOY-GENERAL-101")[0][0] == "WARNING"
    assert list(fp.calls)[-1] == RESTART


@pytest.mark.parametrize("failing, code", [(GIT, "DEPLOY-GENERAL-117"), (PIP, "DEPLOY-GENERAL-118")])
def test_a_failed_deploy_step_stops_before_the_restart(fp, paths, config, root_runner, logs, failing, code):
    fp.register(GIT, returncode=1 if failing is GIT else 0, stderr="fatal: Not possible to fast-forward")
    fp.register(PIP, returncode=1, stderr="ERROR: No matching distribution")

    assert make(paths, config, root_runner).execute() is False

    assert list(fp.calls)[-1] == failing and RESTART not in list(fp.calls)
    assert records(logs, code)[0][0] == "ERROR"


def test_failed_restart_fails_the_deployment(fp, paths, config, root_runner, host_ready, logs):
    for argv in (GIT, PIP, APT_INSTALL):
        fp.register(argv)
    fp.register(RESTART, returncode=5, stderr="Unit cidx-server.service not found.")

    assert make(paths, config, root_runner).execute() is False

    assert "Unit cidx-server.service not found." in records(logs, "DEPLOY-GENERAL-119")[0][1]


def test_sudoers_rule_is_validated_then_written_0440(fp, paths, config, root_runner):
    fp.register(["visudo", "-c", "-q", "-f", fp.any(min=1, max=1)])
    executor = make(paths, config, root_runner, user="cidx")

    assert executor._ensure_sudoers_restart() is True

    rule = os.path.join(paths.sudoers_dir, "cidx-server-restart")
    with open(rule) as f:
        assert f.read() == "cidx ALL=(root) NOPASSWD: /usr/bin/systemctl restart cidx-server\n"
    assert os.stat(rule).st_mode & 0o777 == 0o440
    assert executor._ensure_sudoers_restart() is True  # in place: no second visudo
    assert len(fp.calls) == 1


def test_rejected_sudoers_rule_is_not_written(fp, paths, config, root_runner, host_ready, logs):
    fp.register(GIT)
    fp.register(PIP)
    fp.register(["visudo", "-c", "-q", "-f", fp.any(min=1, max=1)], returncode=1, stderr="syntax error")
    fp.register(APT_INSTALL)
    fp.register(RESTART)

    assert make(paths, config, root_runner, user="cidx").execute() is True

    assert not os.path.exists(os.path.join(paths.sudoers_dir, "cidx-server-restart"))
    assert records(logs, "DEPLOY-GENERAL-116")[0][0] == "WARNING"


def test_run_once_reads_settings_and_flags(tmp_path, monkeypatch):
    settings = tmp_path / "auto-update.conf"
    settings.write_text("CHECKOUT=/srv/cidx\nVENV=/srv/venv\nSERVICE=cidx-server\n")
    seen = {}

    def execute(self):
        seen.update(checkout=self.checkout, venv=self.venv, service=self.service, user=self.service_user)
        return True

    monkeypatch.setattr(DeploymentExecutor, "execute", execute)
    monkeypatch.setenv("CIDX_SYSPREP_CONFIG", str(tmp_path / "absent.conf"))
    assert run_once.main(["--settings", str(settings), "--service", "other"]) == 0
    assert seen == {"checkout": "/srv/cidx", "venv": "/srv/venv", "service": "other", "user": "root"}


def test_run_once_without_a_checkout_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        run_once.main(["--settings", str(tmp_path / "none.conf"), "--venv", "/v", "--service", "s"])
    assert exit_.value.code == 2
    assert "missing --checkout" in capsys.readouterr().err
