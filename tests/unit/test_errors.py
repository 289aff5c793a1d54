"""The code registry: each code defined once, used for one condition, documented from it."""
import glob
import re

import pytest

from cidx_sysprep import errors
from cidx_sysprep.logs import format_error_log

CODE = re.compile(r"DEPLOY-GENERAL-\d{3}")


def sources():
    for path in sorted(glob.glob("cidx_sysprep/**/*.py", recursive=True)):
        if not path.endswith("errors.py"):
            with open(path) as f:
                yield path, f.read()


def test_codes_are_090_to_the_last_without_gaps():
    numbers = [int(code[-3:]) for code in errors.CODES]
    assert numbers == list(range(90, 90 + len(numbers)))


def test_each_code_is_defined_once():
    with open("cidx_sysprep/errors.py") as f:
        defined = re.findall(r'Code\("(DEPLOY-GENERAL-\d{3})"', f.read())
    assert len(defined) == len(set(defined)) == len(errors.CODES)


def test_each_code_is_used_for_exactly_one_condition():
    uses = {}
    for path, text in sources():
        for code in CODE.findall(text):
            uses.setdefault(code, []).append(path)
    assert {code: len(where) for code, where in uses.items() if len(where) != 1} == {}
    assert sorted(uses) == sorted(errors.CODES)  # none unused, none unregistered


def test_story_codes_keep_their_levels():
    levels = {code: c.level for code, c in errors.CODES.items()}
    assert [levels[f"DEPLOY-GENERAL-{n:03d}"] for n in range(90, 101)] == (
        ["error"] * 7 + ["warning", "error", "warning", "warning"])


def test_docs_match_the_registry():
    with open("docs/error-codes.md") as f:
        assert f.read() == errors.markdown(), "run `make docs` and commit docs/error-codes.md"


def test_man_page_lists_the_registry():
    with open("docs/cidx-sysprep.8") as f:
        page = f.read()
    assert errors.splice_man(page) == page, "run `make docs` and commit docs/cidx-sysprep.8"
    listed = page.split(errors.MAN_BEGIN)[1].split(errors.MAN_END)[0]
    assert listed.count(".B DEPLOY\\-GENERAL\\-") == len(errors.CODES)


def test_roff_text_cannot_start_a_request_and_keeps_backslashes():
    assert errors._roff_text(".conf files") == "\\&.conf files"
    assert errors._roff_text("run `swapon -a`") == "run \\fBswapon \\-a\\fR"
    assert errors._roff_text("a\\b") == "a\\eb"


def test_format_error_log():
    assert (format_error_log("DEPLOY-GENERAL-097", "fstab append failed", correlation_id="ab12", path=None)
            == "DEPLOY-GENERAL-097: fstab append failed [correlation_id=ab12]")
    with pytest.raises(KeyError):
        format_error_log("DEPLOY-GENERAL-999", "no such code")
