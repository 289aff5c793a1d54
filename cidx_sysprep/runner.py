"""The one place that runs commands and writes privileged files.

Every command goes through `Runner.run`: `capture_output=True, text=True`, never a shell,
never a prompt (stdin is closed unless input is given), and `sudo` in front only when
we are not root (package scriptlets are root and must not need sudo).
"""
import os
import subprocess


# sysctl, swapon and mkswap live in sbin, which a non-root user's PATH often lacks.
_SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def command_environment(environ):
    """`environ` with the sbin directories it lacks appended to PATH."""
    path = environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
    return dict(environ, PATH=os.pathsep.join(path + [d for d in _SBIN if d not in path]))


_ENV = command_environment(os.environ)


class Runner:
    def __init__(self, as_root=None):
        self.as_root = os.geteuid() == 0 if as_root is None else as_root

    def run(self, argv, input=None, privileged=True):
        if privileged and not self.as_root:
            argv = ["sudo", *argv]
        return subprocess.run(
            argv,
            env=_ENV,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )

    def write_file(self, path, text, mode=0o644):
        """Replace `path` atomically: a crash leaves the old file or the new, never half.

        An existing file keeps its mode and owner; a new one gets `mode`.
        Returns None on success, else a message saying what failed.
        """
        if self.as_root:
            return _write_atomically(path, text, mode)
        tmp = f"{path}.cidx-sysprep.tmp"
        existing = os.path.exists(path)
        steps = [] if existing else [["mkdir", "-p", os.path.dirname(path)]]
        if existing:
            steps.append(["cp", "-p", path, tmp])  # the copy carries mode and owner over
        steps.append(["tee", tmp])
        if not existing:
            steps.append(["chmod", f"{mode:o}", tmp])
        steps += [["sync", tmp], ["mv", "-f", tmp, path]]
        for argv in steps:
            result = self.run(argv, input=text if argv[0] == "tee" else None)
            if result.returncode != 0:
                self.run(["rm", "-f", tmp])
                return f"{' '.join(argv)}: {result.stderr.strip()}"
        return None

    def remove_file(self, path):
        """Remove `path` if present; returns None on success, else what failed."""
        if self.as_root:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as exc:
                return f"rm {path}: {exc.strerror}"
            return None
        result = self.run(["rm", "-f", path])
        return None if result.returncode == 0 else f"rm -f {path}: {result.stderr.strip()}"


def _write_atomically(path, text, mode):
    directory = os.path.dirname(path) or "."
    tmp = os.path.join(directory, f".{os.path.basename(path)}.cidx-sysprep.tmp")
    try:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            st = None
        os.makedirs(directory, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode if st is None else st.st_mode & 0o7777)
        try:
            os.write(fd, text.encode())
            if st is not None:
                os.fchown(fd, st.st_uid, st.st_gid)
                os.fchmod(fd, st.st_mode & 0o7777)
            else:
                os.fchmod(fd, mode)  # the umask must not widen or narrow it
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself must reach the disk
        finally:
            os.close(dir_fd)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return f"writing {path}: {exc.strerror or exc}"
    return None
