"""A PEP 517 build backend with no build requirements, for the stand-in CIDX checkout.

The auto-updater runs `pip install CHECKOUT` into the server's venv. The qemu guest has
no network, so a setuptools build (which pip would fetch into an isolated environment)
cannot run there; this in-tree backend (pyproject.toml: `requires = []`,
`backend-path = ["."]`) builds the wheel with zipfile alone. The version is the number
in RELEASE, so a test can see which release the venv holds.
"""
import base64
import hashlib
import os
import zipfile

DIST = "cidx_stand_in"
MODULES = ("stand_in_server.py",)


def _version():
    with open("RELEASE") as f:
        return f.read().split()[-1]


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version = _version()
    dist_info = "%s-%s.dist-info" % (DIST, version)
    files = {module: open(module, "rb").read() for module in MODULES}
    files[dist_info + "/METADATA"] = (
        "Metadata-Version: 2.1\nName: cidx-stand-in\nVersion: %s\n" % version).encode()
    files[dist_info + "/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: stand_in_build\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n")
    name = "%s-%s-py3-none-any.whl" % (DIST, version)
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as wheel:
        for path, data in files.items():
            wheel.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append("%s,sha256=%s,%d" % (path, digest.decode(), len(data)))
        record.append(dist_info + "/RECORD,,")
        wheel.writestr(dist_info + "/RECORD", "\n".join(record) + "\n")
    return name
