"""What a provisioned (or clean) guest must measure, shared by the VM scenarios."""
import re

from tests.vm.harness import ORIGINAL_FSTAB, REPO

SWAP_BYTES = 4 << 30
SWAP_KIB = SWAP_BYTES // 1024 - 4  # /proc/swaps leaves out mkswap's one-page header
FSTAB_LINE = "/swapfile none swap sw 0 0"
SHIPPED_DROPIN = (REPO / "conf" / "99-cidx-memory.conf").read_text()
LOG_RECORD = re.compile(r"^\S+ \S+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ([\w.]+): (.*)$")
# The modules that do Steps 9 and 10 (and the files they write).
HOST_STEP_LOGGERS = ("cidx_sysprep.overcommit", "cidx_sysprep.swap", "cidx_sysprep.sysctl",
                     "cidx_sysprep.fstab", "cidx_sysprep.swapfile", "cidx_sysprep.state")


def provisioned(snap):
    """Every fact of a freshly provisioned host, read in the guest."""
    assert snap["overcommit_memory"] == 1
    assert snap["sysctl_n"] == "1"
    assert snap["dropin"] == SHIPPED_DROPIN
    assert snap["swaps"] == [{"name": "/swapfile", "type": "file", "size_kib": SWAP_KIB}]
    swapfile = snap["swapfile"]
    assert (swapfile["mode"], swapfile["uid"], swapfile["size"], swapfile["swap_signature"]) \
        == ("0600", 0, SWAP_BYTES, True)
    assert snap["fstab_swapfile_entries"] == [FSTAB_LINE]
    assert snap["fstab"] == ORIGINAL_FSTAB + FSTAB_LINE + "\n"


def clean(snap, overcommit=0):
    """A host with nothing of cidx-sysprep left (the running value aside)."""
    assert snap["overcommit_memory"] == overcommit
    assert snap["swaps"] == []
    assert snap["swapfile"] == {"exists": False}
    assert snap["fstab"] == ORIGINAL_FSTAB  # byte for byte
    assert snap["dropin"] is None
    assert snap["state_record"] is None


def unchanged(before, after):
    """The facts that any write, chmod, mkswap or replacement would change."""
    keys = ("exists", "inode", "mtime_ns", "ctime_ns", "size", "mode", "sha256", "head_sha256")
    return {k: before.get(k) for k in keys} == {k: after.get(k) for k in keys}


def log_records(text):
    """(level, logger, message) for each logging line of the auto-updater."""
    return [m.groups() for m in map(LOG_RECORD.match, text.splitlines()) if m]


def status_matches(status, snap):
    """`cidx-sysprep status --json` says what the guest measured directly."""
    doc = status["json"]
    assert doc is not None, status
    assert str(doc["overcommit"]["effective"]) == str(snap["overcommit_memory"])
    assert [a["path"] for a in doc["swap"]["active"]] == [s["name"] for s in snap["swaps"]]
    assert doc["swap"]["file_active"] == any(s["name"] == "/swapfile" for s in snap["swaps"])
    assert status["rc"] == (0 if doc["provisioned"] else 1)
    return doc
