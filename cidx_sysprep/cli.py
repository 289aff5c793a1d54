"""`cidx-sysprep`: provision, status, teardown.

The argument grammar is tiny and parsed by hand: argparse, logging, json and subprocess
cost more to import than the whole converged check (see `make bench`), so they are
imported only on the paths that need them.
"""
import os
import sys

from cidx_sysprep import __version__

USAGE = """\
usage: cidx-sysprep [--config FILE] [--verbose] COMMAND [OPTIONS]

Keep fork() working on hosts whose processes map more virtual memory than the host has:
set vm.overcommit_memory = 1 and provision a swap file, idempotently.

commands:
  provision [--dry-run] [--json]   make the host provisioned; --dry-run only says what it
                                   would do. Exit 0 when done or skipped by design
                                   (container, opt-out), 1 when a step failed.
  status [--json]                  report; exit 0 when provisioned (overcommit 1 now and at
                                   boot; swap active and in /etc/fstab), 1 when not.
  teardown [--dry-run]             undo what cidx-sysprep itself created (swap file, fstab
                                   line, sysctl file), as recorded in
                                   /var/lib/cidx-sysprep/created.

options:
  --config FILE   configuration file (default /etc/cidx-sysprep.conf, or $CIDX_SYSPREP_CONFIG)
  -v, --verbose   also log debug lines (the idempotent skips)
  -h, --help      show this help
  --version       show the version

Exit 2 means a usage, configuration or unexpected error. Every DEPLOY-GENERAL-NNN code
and what to do about it: cidx-sysprep(8), DIAGNOSTICS.
"""

_OPTIONS = {"provision": {"--dry-run", "--json"}, "status": {"--json"}, "teardown": {"--dry-run"}}


class UsageError(Exception):
    pass


def parse_args(argv):
    """-> (command, options set, config path or None, verbose)."""
    command, options, config, verbose = None, set(), None, False
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-h", "--help"):
            return "help", set(), None, False
        if arg == "--version":
            return "version", set(), None, False
        if arg in ("-v", "--verbose"):
            verbose = True
        elif arg == "--config" or arg.startswith("--config="):
            config = arg.partition("=")[2] if "=" in arg else (args.pop(0) if args else "")
            if not config:
                raise UsageError("--config needs a file name")
        elif command is None and arg in _OPTIONS:
            command = arg
        elif command is not None and arg in _OPTIONS[command]:
            options.add(arg)
        elif command is None:
            raise UsageError(f"unknown command {arg!r}")
        else:
            raise UsageError(f"{command} does not take {arg!r}")
    if command is None:
        raise UsageError("a command is needed: provision, status or teardown")
    return command, options, config, verbose


def main(argv=None, paths=None):
    try:
        command, options, config_path, verbose = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(f"cidx-sysprep: {exc}\nTry 'cidx-sysprep --help'.", file=sys.stderr)
        return 2
    if command == "help":
        print(USAGE, end="")
        return 0
    if command == "version":
        print(f"cidx-sysprep {__version__}")
        return 0
    from cidx_sysprep import config as configuration
    from cidx_sysprep.paths import Paths

    paths = paths or Paths()
    try:
        config = configuration.load(config_path)
    except configuration.ConfigError as exc:
        print(f"cidx-sysprep: ERROR {exc.code}: {exc}", file=sys.stderr)
        return 2
    try:
        if command == "status":
            return _status(config, paths, "--json" in options)
        if command == "provision":
            return _provision(config, paths, "--dry-run" in options, "--json" in options, verbose)
        return _teardown(paths, "--dry-run" in options, verbose)
    except BrokenPipeError:  # `cidx-sysprep status | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # the last line of defence: say what, never a traceback
        print(f"cidx-sysprep: unexpected error: {exc!r}", file=sys.stderr)
        return 2


def _status(config, paths, as_json):
    from cidx_sysprep.probe import probe

    status = probe(config, paths)
    _emit(status, as_json)
    return 0 if status["provisioned"] else 1


def _provision(config, paths, dry_run, as_json, verbose):
    from cidx_sysprep.probe import plan, probe

    before = probe(config, paths)
    steps = plan(before, config, paths)
    if dry_run or not steps:
        if as_json:
            _emit({"schema": before["schema"], "dry_run": dry_run, "plan": steps,
                   "status": before}, True)
        else:
            print("\n".join([f"would {s}" for s in steps] or ["nothing to do"]))
            print("\n".join(_status_lines(before)))
        return 0
    from cidx_sysprep.overcommit import ensure_memory_overcommit
    from cidx_sysprep.runner import Runner
    from cidx_sysprep.swap import ensure_swap_file

    runner = Runner()
    stop_logging = _start_logging(verbose)
    try:
        results = {
            "overcommit": before["overcommit"]["ok"] or ensure_memory_overcommit(runner, config, paths),
            "swap": before["swap"]["ok"] or ensure_swap_file(runner, config, paths),
        }
    finally:
        stop_logging()
    after = probe(config, paths)
    if as_json:
        _emit({"schema": after["schema"], "dry_run": False, "plan": steps, "results": results,
               "status": after}, True)
    else:
        print("\n".join(_status_lines(after)))
    return 0 if all(results.values()) else 1


def _teardown(paths, dry_run, verbose):
    from cidx_sysprep.runner import Runner
    from cidx_sysprep.teardown import teardown

    stop_logging = _start_logging(verbose)
    try:
        ok, lines = teardown(Runner(), paths, dry_run=dry_run)
    finally:
        stop_logging()
    print("\n".join(lines))
    return 0 if ok else 1


def _status_lines(status):
    from cidx_sysprep.report import status_lines

    return status_lines(status)


def _emit(document, as_json):
    if as_json:
        import json

        print(json.dumps(document, indent=2, sort_keys=True))
    else:
        print("\n".join(_status_lines(document)))


def _start_logging(verbose):
    """Log to stderr until the returned function is called."""
    import logging

    from cidx_sysprep.logs import new_correlation_id

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("cidx-sysprep: %(levelname)s %(message)s"))
    root = logging.getLogger("cidx_sysprep")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    new_correlation_id()
    return lambda: root.removeHandler(handler)
