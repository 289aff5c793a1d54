"""The record of what this tool created, so teardown and purge remove only that.

/var/lib/cidx-sysprep/created holds one `KIND<TAB>VALUE` line each; the .deb's
`postrm purge` reads it in shell after the Python code is gone, so keep it that simple.
"""
import logging

from cidx_sysprep.logs import log_code

logger = logging.getLogger(__name__)

SWAPFILE = "swapfile"
FSTAB = "fstab"
SYSCTL_DROPIN = "sysctl-dropin"
OVERCOMMIT_BEFORE = "overcommit-before"


def read(path):
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return []
    return [tuple(line.split("\t", 1)) for line in text.splitlines() if "\t" in line]


def render(entries):
    return "".join(f"{kind}\t{value}\n" for kind, value in entries)


def values(entries, kind):
    return [value for k, value in entries if k == kind]


def record(runner, path, kind, value, once=False):
    """Add `kind value` unless present (with once=True: unless any `kind` is present).

    A failure is logged but not fatal: what was made still works.
    """
    entries = read(path)
    if (kind, value) in entries or (once and values(entries, kind)):
        return
    failed = runner.write_file(path, render(entries + [(kind, value)]))
    if failed:
        log_code(logger, "DEPLOY-GENERAL-114", f"Could not record {kind} {value}: {failed}")


def forget(runner, path, kind, value):
    entries = [e for e in read(path) if e != (kind, value)]
    if entries:
        return runner.write_file(path, render(entries))
    return runner.remove_file(path)
