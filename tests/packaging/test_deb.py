"""The .deb's contents, metadata, maintainer scripts and lintian verdict."""
import re
import subprocess

import pytest

from tests.packaging.conftest import REPO, run, version

CONFFILES = ["/etc/cidx-sysprep.conf", "/etc/sysctl.d/99-cidx-memory.conf"]
SCRIPTS = ["postinst", "prerm", "postrm"]


def field(deb, name):
    return run("dpkg-deb", "-f", deb, name).stdout.strip()


def files(deb):
    listing = run("dpkg-deb", "-c", deb).stdout.splitlines()
    return {line.split(None, 5)[5]: line.split()[0] for line in listing}


def test_metadata(deb):
    assert field(deb, "Package") == "cidx-sysprep"
    assert field(deb, "Version") == f"{version()}-1"
    assert field(deb, "Architecture") == "all"
    assert field(deb, "Maintainer") == "CIDX maintainers <cidx-maintainers@example.org>"
    assert field(deb, "Section") == "admin"
    assert field(deb, "Homepage") == "https://github.com/cidx/cidx-sysprep"
    depends = [d.strip() for d in field(deb, "Depends").split(",")]
    assert sorted(depends) == ["procps", "python3:any (>= 3.9~)", "util-linux (>= 2.25)"]


def test_ships_the_command_module_dropin_config_man_page_and_docs(deb):
    shipped = files(deb)
    for path, mode in {
        "./usr/bin/cidx-sysprep": "-rwxr-xr-x",
        "./etc/sysctl.d/99-cidx-memory.conf": "-rw-r--r--",
        "./etc/cidx-sysprep.conf": "-rw-r--r--",
        "./usr/lib/python3/dist-packages/cidx_sysprep/cli.py": "-rw-r--r--",
        "./usr/lib/python3/dist-packages/cidx_sysprep/auto_update/__init__.py": "-rw-r--r--",
        "./usr/share/man/man8/cidx-sysprep.8.gz": "-rw-r--r--",
        "./usr/share/doc/cidx-sysprep/copyright": "-rw-r--r--",
    }.items():
        assert shipped.get(path) == mode, path
    assert any(p.startswith("./usr/share/doc/cidx-sysprep/error-codes.md") for p in shipped)
    modules = {p.rsplit("/", 1)[1] for p in shipped
               if p.startswith("./usr/lib/python3/dist-packages/cidx_sysprep/") and p.endswith(".py")}
    assert modules == {p.name for p in (REPO / "cidx_sysprep").rglob("*.py")}
    assert not [p for p in shipped if p.endswith(".pyc")]  # dh_python3 compiles at install


def test_launcher_runs_cli_main_with_debian_python(deb, tmp_path):
    run("dpkg-deb", "-x", deb, tmp_path)
    script = (tmp_path / "usr/bin/cidx-sysprep").read_text()
    # The repository's launcher, as it is: no metadata lookup on the converged path.
    assert script == (REPO / "bin/cidx-sysprep").read_text()
    assert script.startswith("#!/usr/bin/python3\n")
    result = run("/usr/bin/python3", tmp_path / "usr/bin/cidx-sysprep", "--version",
                 env={"PYTHONPATH": str(tmp_path / "usr/lib/python3/dist-packages")})
    assert result.stdout == f"cidx-sysprep {version()}\n"


def test_conffiles_are_exactly_the_two_etc_files(deb, tmp_path):
    run("dpkg-deb", "-e", deb, tmp_path)
    assert (tmp_path / "conffiles").read_text().split() == CONFFILES


def test_shipped_files_match_the_repository(deb, tmp_path):
    run("dpkg-deb", "-x", deb, tmp_path)
    for shipped, source in (("etc/sysctl.d/99-cidx-memory.conf", "conf/99-cidx-memory.conf"),
                            ("etc/cidx-sysprep.conf", "conf/cidx-sysprep.conf")):
        assert (tmp_path / shipped).read_bytes() == (REPO / source).read_bytes()


@pytest.mark.parametrize("script", SCRIPTS)
def test_maintainer_scripts_are_ours_with_the_debhelper_snippets(deb, tmp_path, script):
    run("dpkg-deb", "-e", deb, tmp_path)
    built = (tmp_path / script).read_text()
    source = (REPO / f"debian/cidx-sysprep.{script}").read_text()
    before, token, after = source.partition("#DEBHELPER#\n")
    assert token, f"debian/cidx-sysprep.{script} lacks #DEBHELPER#"
    assert built.startswith(before) and built.endswith(after)


@pytest.mark.parametrize("script", SCRIPTS)
def test_maintainer_scripts_are_posix_sh_and_shellcheck_clean(deb, tmp_path, script):
    run("dpkg-deb", "-e", deb, tmp_path)
    for path in (REPO / f"debian/cidx-sysprep.{script}", tmp_path / script):
        assert path.read_text().startswith("#!/bin/sh\n")
        assert run("sh", "-n", path, check=False).returncode == 0
        lint = run("shellcheck", "--shell=sh", path, check=False)
        assert lint.returncode == 0, lint.stdout


def test_man_page_renders_without_warnings(deb, tmp_path):
    run("dpkg-deb", "-x", deb, tmp_path)
    page = tmp_path / "usr/share/man/man8/cidx-sysprep.8.gz"
    result = run("man", "--warnings", "-l", page, env={"MANWIDTH": "80", "LC_ALL": "C.UTF-8"})
    assert result.stderr == ""
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "EXIT STATUS",
                    "ENVIRONMENT", "FILES", "DIAGNOSTICS", "SEE ALSO"):
        assert re.search(rf"^{heading}$", result.stdout, re.MULTILINE), heading


def overrides():
    """{tag: reason} from debian/cidx-sysprep.lintian-overrides; a reason is the comment
    block right above the override."""
    reasons, comment = {}, []
    for line in (REPO / "debian/cidx-sysprep.lintian-overrides").read_text().splitlines():
        if line.startswith("#"):
            comment.append(line.lstrip("# "))
        elif line.strip():
            reasons[line.split()[1]] = " ".join(comment)
            comment = []
    return reasons


def test_lintian_reports_no_errors_and_only_overridden_warnings(deb):
    result = subprocess.run(["lintian", "--show-overrides", str(deb)], capture_output=True,
                            text=True, timeout=300)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert not [line for line in lines if line.startswith(("E:", "W:"))], lines
    overridden = {line.split()[2] for line in lines if line.startswith("O:")}
    reasons = overrides()
    assert overridden == set(reasons)  # each override is used, each used one is listed
    assert all(len(reason) > 20 for reason in reasons.values()), reasons
