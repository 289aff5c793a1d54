"""/etc/fstab as data: parse into lines, decide, render back.

Every line the file had is kept byte for byte (comments, tabs, blank lines, a last line
without a newline); we only ever add one line at the end or remove the exact line we
added. The fields follow fstab(5): whitespace-separated, octal escapes such as \\040.
"""


class Line:
    __slots__ = ("raw", "fields")

    def __init__(self, raw):
        self.raw = raw
        text = raw.strip()
        self.fields = None if not text or text.startswith("#") else [unescape(f) for f in text.split()]

    @property
    def spec(self):
        return self.fields[0] if self.fields else None

    @property
    def vfstype(self):
        return self.fields[2] if self.fields and len(self.fields) > 2 else None


def unescape(field):
    """Decode the octal escapes (\\040 for a space) that fstab, mountinfo and /proc/swaps use."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        code = field[i + 1:i + 4]
        if field[i] == "\\" and len(code) == 3 and all(c in "01234567" for c in code):
            out.append(chr(int(code, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def read(path):
    """The file's text; a missing fstab is an empty one."""
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def parse(text):
    return [Line(raw) for raw in text.splitlines()]


def swap_line(path):
    return f"{path} none swap sw 0 0"


def entry_for(lines, spec):
    """The first entry (not a comment) whose device field is `spec`, or None."""
    for line in lines:
        if line.spec == spec:
            return line
    return None


def swap_specs(lines):
    """Device fields of the swap entries, in file order."""
    return [line.spec for line in lines if line.vfstype == "swap"]


def with_line(text, line):
    """`text` with `line` appended; a missing final newline is supplied first."""
    if text and not text.endswith("\n"):
        text += "\n"
    return text + line + "\n"


def without_line(text, line):
    """`text` without the lines equal to `line`; everything else unchanged."""
    kept = [raw for raw in text.splitlines(keepends=True) if raw.rstrip("\r\n") != line]
    return "".join(kept)
