"""The .rpm's contents, metadata, scriptlets and rpmlint verdict; its scriptlets run
for real (rpm -i --nodeps: the root's rpm database is empty) in a throwaway root."""
import sys
from pathlib import Path

from tests.packaging.conftest import CHROOT_PATH, FSTAB, REPO, run, version

RPMLINT = Path(sys.executable).with_name("rpmlint")
CONFIG_FILES = ["/etc/cidx-sysprep.conf", "/etc/sysctl.d/99-cidx-memory.conf"]
NOT_PROVISIONED = ("cidx-sysprep: the package is installed, but the host is not fully "
                   "provisioned (see above); run 'cidx-sysprep status'")
ERASE_NOTICE = ("cidx-sysprep: the swap file stays in place; vm.overcommit_memory stays 1 "
                "until the next boot (the sysctl.d drop-in goes with the package); "
                "'cidx-sysprep teardown', run before erasing the package, undoes what "
                "cidx-sysprep created")


# rpm runs scriptlets with its own PATH (%_install_script_path), which leaves out the
# fakes' /usr/local/sbin: put it back.
RPM_I = ["rpm", "-i", "--nodeps", "--define", f"_install_script_path {CHROOT_PATH}"]
EL9_SITE = "/usr/lib/python3.9/site-packages"


def stand_in_for_el9_python(root):
    """The RPM is for EL9, whose python3 (3.9) imports from EL9_SITE; this Debian root's
    python3 does not, so a .pth file adds it, as EL9's interpreter would search it."""
    (root / "/usr/lib/python3/dist-packages/zz-el9-site.pth").write_text(EL9_SITE + "\n")


def query(rpm, *options):
    return run("rpm", "-qp", *options, rpm).stdout


def test_metadata(rpm):
    fields = dict(line.split("\t", 1) for line in query(
        rpm, "--qf", "name\t%{NAME}\nversion\t%{VERSION}\nrelease\t%{RELEASE}\n"
        "arch\t%{ARCH}\nlicense\t%{LICENSE}\nurl\t%{URL}\npackager\t%{PACKAGER}\n"
        "buildhost\t%{BUILDHOST}\n").splitlines())
    assert fields == {"name": "cidx-sysprep", "version": version(), "release": "1",
                      "arch": "noarch", "license": "MIT",
                      "url": "https://github.com/cidx/cidx-sysprep",
                      "packager": "CIDX maintainers <cidx-maintainers@example.org>",
                      "buildhost": "reproducible"}


def test_requires_python_util_linux_procps_also_for_post(rpm):
    requires = set(query(rpm, "--requires").splitlines())
    assert {"python3 >= 3.9", "python(abi) = 3.9", "util-linux", "procps-ng"} <= requires
    post = set(query(rpm, "--qf", "[%{REQUIRENAME} %{REQUIREFLAGS:deptype}\n]").splitlines())
    assert {"python3 post", "util-linux post", "procps-ng post"} <= post


def test_files(rpm):
    files = query(rpm, "-l").splitlines()
    for path in ("/usr/bin/cidx-sysprep", "/etc/sysctl.d/99-cidx-memory.conf",
                 "/etc/cidx-sysprep.conf", "/usr/share/man/man8/cidx-sysprep.8.gz",
                 "/usr/share/doc/cidx-sysprep/error-codes.md",
                 f"/usr/share/licenses/cidx-sysprep-{version()}/LICENSE"):
        assert path in files
    modules = {Path(p).name for p in files if p.startswith(f"{EL9_SITE}/cidx_sysprep/") and p.endswith(".py")}
    assert modules == {p.name for p in (REPO / "cidx_sysprep").rglob("*.py")}


def test_config_files_are_the_two_etc_files_noreplace(rpm):
    assert query(rpm, "--configfiles").split() == CONFIG_FILES
    flags = query(rpm, "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]").splitlines()
    assert sorted(line for line in flags if line.startswith("/etc/")) == [
        f"{path} cn" for path in CONFIG_FILES]  # c: %config, n: noreplace


def test_scriptlets(rpm):
    scripts = query(rpm, "--scripts")
    assert "if ! /usr/bin/cidx-sysprep provision </dev/null; then" in scripts
    assert 'if [ "$1" -eq 0 ]; then' in scripts
    assert "postuninstall" not in scripts  # nothing to do after erase or upgrade


def test_rpmlint_reports_no_errors(rpm):
    result = run(RPMLINT, "-c", REPO / "rpm/rpmlint.toml", rpm, REPO / "rpm/cidx-sysprep.spec",
                 check=False)
    assert result.returncode == 0, result.stdout
    assert " 0 errors," in result.stdout, result.stdout


def test_install_reinstall_erase_in_a_throwaway_root(root, rpm):
    stand_in_for_el9_python(root)
    package = root.copy_in(rpm)
    install = root.run(*RPM_I, package)
    assert install.returncode == 0, install.stderr
    assert root.overcommit() == "1\n"
    assert (root / "/etc/fstab").read_bytes() == FSTAB + b"/swapfile none swap sw 0 0\n"
    assert "/swapfile\t" in root.swaps()
    swapfile = (root / "/swapfile").stat()
    calls = root.commands()

    again = root.run(*RPM_I, "--replacepkgs", package)
    assert again.returncode == 0, again.stderr
    assert root.commands() == calls  # %post on a provisioned host: no change at all
    assert (root / "/swapfile").stat().st_mtime_ns == swapfile.st_mtime_ns

    erase = root.run("rpm", "-e", "--define", f"_install_script_path {CHROOT_PATH}",
                     "cidx-sysprep")
    assert erase.returncode == 0, erase.stderr
    # (Debian's rpm adds its own "use Alien instead" lines.)
    assert [line for line in erase.stderr.splitlines()
            if line.startswith("cidx-sysprep")] == [ERASE_NOTICE]
    assert not (root / "/usr/bin/cidx-sysprep").exists()
    assert "/swapfile\t" in root.swaps()  # swap and its fstab line stay
    assert (root / "/etc/fstab").read_bytes() == FSTAB + b"/swapfile none swap sw 0 0\n"


def test_a_failed_provision_does_not_fail_the_transaction(root, rpm):
    stand_in_for_el9_python(root)
    (root / "/etc/fake-swapon-fails").touch()
    result = root.run(*RPM_I, root.copy_in(rpm))
    assert result.returncode == 0, result.stderr
    errors = result.stderr.splitlines()
    assert any(line.startswith("cidx-sysprep: ERROR DEPLOY-GENERAL-096: ")
               and "Operation not permitted" in line for line in errors), errors
    assert errors[-1] == NOT_PROVISIONED
    assert root.run("rpm", "-q", "cidx-sysprep").stdout == f"cidx-sysprep-{version()}-1.noarch\n"
