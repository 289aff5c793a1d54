"""DeploymentExecutor: one deployment of a CIDX server checkout, as a short list of steps.

Deploying (fast-forward the checkout, install it into its venv) is fatal on failure:
nothing half-deployed gets restarted. Preparing the host (the story's Step 8 onward:
sudoers rule, the cidx-sysprep package, Step 9 overcommit, Step 10 swap) is best effort:
each failure is a warning with its code and the deployment goes on to the restart.
Every step's body lives in the module it concerns; this file only orders them.
"""
import logging
import os
import shutil
import tempfile

from cidx_sysprep import overcommit, swap
from cidx_sysprep.config import Config
from cidx_sysprep.logs import get_correlation_id, log_code
from cidx_sysprep.paths import Paths
from cidx_sysprep.runner import Runner

logger = logging.getLogger(__name__)

PACKAGE = "cidx-sysprep"
# Keep locally edited conffiles and never ask: the updater runs unattended.
APT_INSTALL = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q",
               "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
               PACKAGE]
DNF_INSTALL = ["dnf", "install", "-y", "-q", PACKAGE]  # %config(noreplace) keeps edits


class DeploymentExecutor:
    def __init__(self, checkout, venv, service, service_user="root", runner=None,
                 config=None, paths=None, which=shutil.which):
        self.checkout = checkout
        self.venv = venv
        self.service = service
        self.service_user = service_user
        self.runner = runner or Runner()
        self.config = config or Config()
        self.paths = paths or Paths()
        self.which = which

    def execute(self):
        """Deploy and restart; True when the new version is running."""
        get_correlation_id()
        logger.info("Deployment of %s started", self.checkout)
        if not self._git_pull() or not self._pip_install():
            return False
        # Step 8: the server may restart itself after its own updates.
        if not self._ensure_sudoers_restart():
            log_code(logger, "DEPLOY-GENERAL-116",
                     f"Sudoers restart rule for {self.service} could not be installed")
        # The package installs the drop-in as a conffile and provisions swap in its
        # scriptlets; the package manager then owns the files and their upgrades.
        if not self._ensure_sysprep_package():
            log_code(logger, "DEPLOY-GENERAL-101",
                     "cidx-sysprep package step failed - Steps 9 and 10 provision directly")
        # Step 9: Ensure vm.overcommit_memory=1 for fork safety
        if not self._ensure_memory_overcommit():
            log_code(logger, "DEPLOY-GENERAL-099",
                     "Memory overcommit could not be configured - "
                     "subprocess fork may fail with ENOMEM on high VmPeak")
        # Step 10: Ensure swap file exists as safety net
        if not self._ensure_swap_file():
            log_code(logger, "DEPLOY-GENERAL-100",
                     "Swap file could not be created - no swap safety net for OOM conditions")
        return self._restart_server()

    def _git_pull(self):
        return self._run(["git", "-C", self.checkout, "pull", "--ff-only"], "DEPLOY-GENERAL-117",
                         privileged=False)

    def _pip_install(self):
        pip = os.path.join(self.venv, "bin", "pip")
        return self._run([pip, "install", "--quiet", "--disable-pip-version-check", self.checkout],
                         "DEPLOY-GENERAL-118", privileged=False)

    def _ensure_sudoers_restart(self):
        if self.service_user == "root":
            logger.debug("Server runs as root: no sudoers rule needed")
            return True
        path = os.path.join(self.paths.sudoers_dir, "cidx-server-restart")
        rule = (f"{self.service_user} ALL=(root) NOPASSWD: "
                f"/usr/bin/systemctl restart {self.service}\n")
        try:
            with open(path) as f:
                if f.read() == rule:
                    logger.debug("Sudoers restart rule already in place")
                    return True
        except FileNotFoundError:
            pass
        with tempfile.NamedTemporaryFile("w", suffix=".sudoers") as candidate:
            candidate.write(rule)
            candidate.flush()
            checked = self.runner.run(["visudo", "-c", "-q", "-f", candidate.name])
        if checked.returncode != 0:
            logger.warning("visudo rejected the rule %r: %s", rule, checked.stderr.strip())
            return False
        failed = self.runner.write_file(path, rule, mode=0o440)
        if failed:
            logger.warning("Writing %s failed: %s", path, failed)
            return False
        logger.info("Installed sudoers rule %s", path)
        return True

    def _ensure_sysprep_package(self):
        try:
            if self.which("apt-get"):
                argv = APT_INSTALL
            elif self.which("dnf"):
                argv = DNF_INSTALL
            else:
                log_code(logger, "DEPLOY-GENERAL-102", "Neither apt-get nor dnf found")
                return False
            if not self._run(argv, "DEPLOY-GENERAL-103"):
                return False
            logger.info("Package %s installed and up to date", PACKAGE)
            return True
        except Exception as exc:
            log_code(logger, "DEPLOY-GENERAL-104", f"Unexpected error installing {PACKAGE}: {exc!r}")
            return False

    def _ensure_memory_overcommit(self):
        return overcommit.ensure_memory_overcommit(self.runner, self.config, self.paths)

    def _ensure_swap_file(self):
        return swap.ensure_swap_file(self.runner, self.config, self.paths)

    def _restart_server(self):
        if not self._run(["systemctl", "restart", self.service], "DEPLOY-GENERAL-119"):
            return False
        logger.info("Deployment finished: %s restarted", self.service)
        return True

    def _run(self, argv, code, privileged=True):
        """Run one command; on failure log `code` with the command and its stderr."""
        result = self.runner.run(argv, privileged=privileged)
        if result.returncode != 0:
            log_code(logger, code, f"{' '.join(argv)} failed (exit {result.returncode})",
                     stderr=result.stderr.strip())
            return False
        return True
