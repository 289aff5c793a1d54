"""/etc/cidx-sysprep.conf: plain KEY=value lines, defaults in one place.

The environment overrides the file (CIDX_SYSPREP_SWAP=no on a Kubernetes node), and
CIDX_SYSPREP_CONFIG names another file.
"""
import os

from cidx_sysprep.paths import CONFIG

DEFAULTS = {"OVERCOMMIT": "yes", "SWAP": "yes", "SWAP_FILE": "/swapfile", "SWAP_SIZE": "4G"}
_BOOL = {"yes": True, "true": True, "on": True, "1": True,
         "no": False, "false": False, "off": False, "0": False}
_UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


class ConfigError(Exception):
    code = "DEPLOY-GENERAL-115"


class Config:
    def __init__(self, overcommit=True, swap=True, swap_file="/swapfile", swap_size="4G"):
        self.overcommit = overcommit
        self.swap = swap
        self.swap_file = swap_file
        self.swap_size = swap_size  # as written, for `fallocate -l`
        self.swap_bytes = parse_size(swap_size)


def parse_size(text):
    """'4G' -> 4294967296 (binary units, as fallocate reads them)."""
    number, unit = text[:-1], text[-1:].upper()
    if unit.isdigit():
        number, unit = text, ""
    # isdigit() alone accepts '²' and other digits int() refuses: ASCII only.
    if not (number.isascii() and number.isdigit()) or (unit and unit not in _UNITS):
        raise ConfigError(f"SWAP_SIZE={text!r}: use a whole number with K, M, G or T, like 4G")
    size = int(number) * _UNITS.get(unit, 1)
    if size < 40 << 10 or size % 1024:
        raise ConfigError(f"SWAP_SIZE={text!r}: swap space needs a whole number of K, 40K at least")
    return size


def parse(text, source, keys=DEFAULTS):
    """KEY=value lines -> {key: (value, "source:line")}; comments, blanks and quotes as in shell."""
    values = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        value = value.split(" #")[0].split("\t#")[0]  # a trailing comment, as in shell
        key, value = key.strip(), value.strip().strip("\"'")
        if not sep or key not in keys:
            raise ConfigError(f"{source}:{number}: {raw.strip()!r}: expected one of "
                              + ", ".join(f"{k}=" for k in keys))
        values[key] = (value, f"{source}:{number}")
    return values


def load(path=None, environ=os.environ):
    path = path or environ.get("CIDX_SYSPREP_CONFIG") or CONFIG
    located = {key: (value, "default") for key, value in DEFAULTS.items()}
    try:
        with open(path) as f:
            located.update(parse(f.read(), path))
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    for key in ("OVERCOMMIT", "SWAP"):
        override = environ.get("CIDX_SYSPREP_" + key)
        if override:
            located[key] = (override, "CIDX_SYSPREP_" + key)

    def checked(key, convert):
        value, where = located[key]
        try:
            return convert(key, value)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None

    return Config(
        overcommit=checked("OVERCOMMIT", _flag),
        swap=checked("SWAP", _flag),
        swap_file=checked("SWAP_FILE", _swap_file),
        swap_size=checked("SWAP_SIZE", _size),
    )


def _flag(key, value):
    try:
        return _BOOL[value.lower()]
    except KeyError:
        raise ConfigError(f"{key}={value!r}: use yes or no") from None


def _swap_file(key, path):
    if not path.startswith("/") or path.endswith("/") or any(c.isspace() for c in path):
        raise ConfigError(f"{key}={path!r}: use an absolute file path without spaces")
    return path


def _size(key, text):
    parse_size(text)
    return text
