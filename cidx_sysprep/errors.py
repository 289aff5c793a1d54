"""The one registry of DEPLOY-GENERAL codes: each defined here once, documented from here.

`make docs` renders docs/error-codes.md (`--markdown`) and the man page's code list
(`--man FILE`, between its CODES markers); unit tests check that the committed files
match, so the docs cannot drift from the code.
"""
import sys

ERROR = "error"
WARNING = "warning"


class Code:
    __slots__ = ("code", "level", "where", "condition", "action")

    def __init__(self, code, level, where, condition, action):
        self.code = code
        self.level = level
        self.where = where
        self.condition = condition
        self.action = action


_DROPIN = "/etc/sysctl.d/99-cidx-memory.conf"

CODES = {c.code: c for c in (
    # The story's codes, 090-100, exactly as allocated there.
    Code("DEPLOY-GENERAL-090", ERROR, "overcommit",
         f"Writing {_DROPIN} failed.",
         "Check that /etc/sysctl.d is writable (read-only /etc, disk full) and that the "
         "caller is root or may run `sudo tee`; then run `cidx-sysprep provision`."),
    Code("DEPLOY-GENERAL-091", ERROR, "overcommit",
         f"Applying the setting with `sysctl -p {_DROPIN}` failed.",
         "Run `sysctl -p " + _DROPIN + "` by hand and read its error; in a container "
         "/proc/sys is read-only and the host must set vm.overcommit_memory."),
    Code("DEPLOY-GENERAL-092", ERROR, "overcommit",
         "Unexpected exception while configuring vm.overcommit_memory.",
         "Read the exception in the log line; report it with `cidx-sysprep status --json`."),
    Code("DEPLOY-GENERAL-093", ERROR, "swap",
         "Allocating the swap file with `fallocate` failed.",
         "Check free space and that the filesystem supports fallocate; set SWAP_FILE in "
         "/etc/cidx-sysprep.conf to a path on another filesystem if needed."),
    Code("DEPLOY-GENERAL-094", ERROR, "swap",
         "`chmod 600` on the swap file failed.",
         "Check the file's filesystem is writable and not mounted with odd permissions."),
    Code("DEPLOY-GENERAL-095", ERROR, "swap",
         "`mkswap` on the swap file failed.",
         "Run `mkswap FILE` by hand and read its error; util-linux must be installed."),
    Code("DEPLOY-GENERAL-096", ERROR, "swap",
         "`swapon` on the swap file failed; a file made in this run was removed (an "
         "existing one that was being reused is kept).",
         "Read swapon's error in the log line. In a container swap is the host's job; on "
         "btrfs the file must be no-copy-on-write; on ZFS, tmpfs or NFS use another path."),
    Code("DEPLOY-GENERAL-097", WARNING, "swap",
         "Adding the swap file to /etc/fstab failed: swap is active but will not survive "
         "a reboot.",
         "Add the line `SWAP_FILE none swap sw 0 0` (with your SWAP_FILE) to /etc/fstab, "
         "or fix what made /etc unwritable and run `cidx-sysprep provision`."),
    Code("DEPLOY-GENERAL-098", ERROR, "swap",
         "Unexpected exception while provisioning the swap file.",
         "Read the exception in the log line; report it with `cidx-sysprep status --json`."),
    Code("DEPLOY-GENERAL-099", WARNING, "auto-updater",
         "Memory overcommit could not be configured: subprocess fork may fail with ENOMEM "
         "on high VmPeak. The deployment continues.",
         "See the overcommit error logged just before (090-092, 105)."),
    Code("DEPLOY-GENERAL-100", WARNING, "auto-updater",
         "Swap file could not be created: no swap safety net for OOM conditions. The "
         "deployment continues.",
         "See the swap error logged just before (093-098, 109-113, 121)."),
    # Ours, from 101 on.
    Code("DEPLOY-GENERAL-101", WARNING, "auto-updater",
         "The cidx-sysprep package step failed; Steps 9 and 10 provision the host "
         "directly instead. The deployment continues.",
         "See the package error logged just before (102-104)."),
    Code("DEPLOY-GENERAL-102", WARNING, "auto-updater",
         "Neither apt-get nor dnf was found, so the cidx-sysprep package was not installed.",
         "Install the package by hand from the files `make packages` builds."),
    Code("DEPLOY-GENERAL-103", WARNING, "auto-updater",
         "Installing the cidx-sysprep package with the package manager failed.",
         "Check the repository is configured and its lists are fresh (`apt-get update`, "
         "`dnf makecache`); the package manager's error is in the log line."),
    Code("DEPLOY-GENERAL-104", ERROR, "auto-updater",
         "Unexpected exception while installing the cidx-sysprep package.",
         "Read the exception in the log line."),
    Code("DEPLOY-GENERAL-105", ERROR, "overcommit",
         "vm.overcommit_memory still does not read 1 after the setting was applied.",
         "Something else writes the value (a tuned profile, a container runtime, an "
         "orchestration agent); find it, or set the value on the container's host."),
    Code("DEPLOY-GENERAL-106", WARNING, "overcommit",
         "Another sysctl file sets vm.overcommit_memory after ours: at boot its value wins.",
         "Remove or change the named line (file and line are in the message), then run "
         "`cidx-sysprep status`."),
    Code("DEPLOY-GENERAL-107", WARNING, "overcommit",
         "Running in a container, or /proc/sys is read-only: vm.overcommit_memory was not "
         "changed (it is not namespaced: a container would change it for the whole host).",
         "Set vm.overcommit_memory = 1 on the container's host; the container shares it."),
    Code("DEPLOY-GENERAL-108", WARNING, "swap",
         "Running in a container: swap cannot be enabled here and was skipped.",
         "Provision swap on the container's host, or set SWAP=no to silence this."),
    Code("DEPLOY-GENERAL-109", ERROR, "swap",
         "The swap file's filesystem cannot hold swap (ZFS, tmpfs, overlay, network).",
         "Set SWAP_FILE in /etc/cidx-sysprep.conf to a path on ext4, xfs or btrfs."),
    Code("DEPLOY-GENERAL-110", ERROR, "swap",
         "Not enough free space for the swap file without filling the disk; nothing was "
         "created.",
         "Free space, or lower SWAP_SIZE / move SWAP_FILE in /etc/cidx-sysprep.conf."),
    Code("DEPLOY-GENERAL-111", ERROR, "swap",
         "A file exists at the swap file path but is not swap space; it was left untouched.",
         "Move that file away (it may hold data) or set SWAP_FILE to another path."),
    Code("DEPLOY-GENERAL-112", ERROR, "swap",
         "Writing the swap file with zeros (`dd`) failed; the incomplete file was removed.",
         "Check free space and the filesystem's health."),
    Code("DEPLOY-GENERAL-113", ERROR, "swap",
         "Preparing the no-copy-on-write swap file on btrfs (`touch`, `chattr +C`) failed.",
         "e2fsprogs provides chattr; on btrfs, `btrfs filesystem mkswapfile` is an "
         "alternative."),
    Code("DEPLOY-GENERAL-114", WARNING, "state",
         "Recording what was created in /var/lib/cidx-sysprep/created failed: teardown "
         "and purge will not know to remove it.",
         "Check /var/lib is writable; remove the swap file and its fstab line by hand "
         "when uninstalling."),
    Code("DEPLOY-GENERAL-115", ERROR, "config",
         "The configuration file or an environment override is invalid.",
         "Fix the named line of /etc/cidx-sysprep.conf (keys: OVERCOMMIT, SWAP, "
         "SWAP_FILE, SWAP_SIZE)."),
    Code("DEPLOY-GENERAL-116", WARNING, "auto-updater",
         "The sudoers rule that lets the server restart itself could not be installed. "
         "The deployment continues.",
         "Check `visudo -c` and /etc/sudoers.d; the message names the failed command."),
    Code("DEPLOY-GENERAL-117", ERROR, "auto-updater",
         "Fast-forwarding the checkout (`git pull --ff-only`) failed; nothing was deployed.",
         "Resolve local changes or a diverged branch in the checkout."),
    Code("DEPLOY-GENERAL-118", ERROR, "auto-updater",
         "Installing the checkout into its virtual environment (`pip install`) failed.",
         "Read pip's error in the log line; the previous version keeps running."),
    Code("DEPLOY-GENERAL-119", ERROR, "auto-updater",
         "Restarting the server (`systemctl restart`) failed.",
         "Run `systemctl status SERVICE` and `journalctl -u SERVICE`."),
    Code("DEPLOY-GENERAL-120", ERROR, "teardown",
         "Undoing part of what the tool created failed; the rest was undone and the "
         "record keeps what remains.",
         "Read the named command's error; run `cidx-sysprep teardown` again once fixed."),
    Code("DEPLOY-GENERAL-121", ERROR, "swap",
         "An inactive swap file of the wrong size or with holes could not be removed to "
         "make a new one.",
         "Check the file's attributes (`lsattr`: immutable?) and remove it by hand."),
)}


def lookup(code):
    return CODES[code]


def markdown():
    """Render the operator reference table (docs/error-codes.md)."""
    lines = [
        "# Error codes",
        "",
        "Generated from `cidx_sysprep/errors.py` by `make docs`; a unit test keeps the two",
        "identical. Each message names its code; the log line carries the details (the",
        "failed command's stderr, paths) and a `correlation_id` that ties one run together.",
        "",
        "| Code | Level | Where | Meaning | What to do |",
        "|---|---|---|---|---|",
    ]
    for c in CODES.values():
        cells = (c.code, c.level, c.where, c.condition, c.action)
        lines.append("| " + " | ".join(s.replace("|", "\\|") for s in cells) + " |")
    return "\n".join(lines) + "\n"


MAN_BEGIN = '.\\" BEGIN CODES: generated from cidx_sysprep/errors.py by `make docs`'
MAN_END = '.\\" END CODES'


def roff():
    """The man page's list of codes: one tagged paragraph each."""
    lines = []
    for c in CODES.values():
        lines += [".TP", ".B " + c.code.replace("-", "\\-"),
                  _roff_text(f"({c.level}, {c.where}) {c.condition}"), ".br", _roff_text(c.action)]
    return "\n".join(lines) + "\n"


def _roff_text(text):
    """Backslashes escaped, `code` in bold, no line that roff would take as a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    parts = text.split("`")
    text = "".join(p if i % 2 == 0 else f"\\fB{p}\\fR" for i, p in enumerate(parts))
    return "\\&" + text if text[:1] in ".'" else text


def splice_man(page):
    """`page` (the man page's text) with the code list between the markers renewed."""
    head, begin, rest = page.partition(MAN_BEGIN + "\n")
    _, end, tail = rest.partition(MAN_END + "\n")
    if not (begin and end):
        raise ValueError("the man page lacks the BEGIN CODES / END CODES markers")
    return head + begin + roff() + end + tail


if __name__ == "__main__":
    if sys.argv[1:2] == ["--man"]:
        with open(sys.argv[2]) as f:
            page = f.read()
        with open(sys.argv[2], "w") as f:
            f.write(splice_man(page))
    else:
        print(markdown(), end="")
