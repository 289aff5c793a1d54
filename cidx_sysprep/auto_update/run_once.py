"""`python3 -m cidx_sysprep.auto_update.run_once`: one deployment, for a timer or by hand.

Settings come from flags, else from /etc/cidx-server/auto-update.conf (KEY=value:
CHECKOUT, VENV, SERVICE, SERVICE_USER). Exit 0 when deployed and restarted, 1 when not,
2 on a usage or configuration error.
"""
import argparse
import logging
import sys

from cidx_sysprep import config as configuration
from cidx_sysprep.auto_update.deployment_executor import DeploymentExecutor

SETTINGS = "/etc/cidx-server/auto-update.conf"
KEYS = {"CHECKOUT": None, "VENV": None, "SERVICE": None, "SERVICE_USER": "root"}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m cidx_sysprep.auto_update.run_once",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--settings", default=SETTINGS, help=f"settings file (default {SETTINGS})")
    parser.add_argument("--checkout", help="the CIDX server's git checkout")
    parser.add_argument("--venv", help="the virtual environment the server runs from")
    parser.add_argument("--service", help="the server's systemd unit")
    parser.add_argument("--service-user", help="the user the server runs as (default root)")
    parser.add_argument("--config", help="cidx-sysprep configuration (default /etc/cidx-sysprep.conf)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log the idempotent skips too")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = _settings(args.settings)
        sysprep = configuration.load(args.config)
    except configuration.ConfigError as exc:
        print(f"run_once: ERROR {exc.code}: {exc}", file=sys.stderr)
        return 2
    values = {key: getattr(args, key.lower()) or settings.get(key) or default
              for key, default in KEYS.items()}
    missing = [key for key, value in values.items() if not value]
    if missing:
        parser.error("missing " + ", ".join(f"--{k.lower().replace('_', '-')}" for k in missing)
                     + f" (flags or {args.settings})")
    executor = DeploymentExecutor(values["CHECKOUT"], values["VENV"], values["SERVICE"],
                                  service_user=values["SERVICE_USER"], config=sysprep)
    return 0 if executor.execute() else 1


def _settings(path):
    try:
        with open(path) as f:
            return {key: value for key, (value, _) in configuration.parse(f.read(), path, keys=KEYS).items()}
    except FileNotFoundError:
        return {}


if __name__ == "__main__":
    sys.exit(main())
