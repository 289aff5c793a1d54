"""/etc/cidx-sysprep.conf: defaults, each key, errors that name the line, env overrides."""
import os

import pytest

from cidx_sysprep import config
from cidx_sysprep.config import Config, ConfigError
from tests.unit.conftest import write


def load_text(tmp_path, text, environ=None):
    path = str(tmp_path / "cidx-sysprep.conf")
    write(path, text)
    return config.load(path, environ={} if environ is None else environ)


def settings(loaded):
    return {name: getattr(loaded, name)
            for name in ("overcommit", "swap", "swap_file", "swap_size", "swap_bytes")}


def test_defaults_when_the_file_is_absent(tmp_path):
    loaded = config.load(str(tmp_path / "missing.conf"), environ={})
    assert settings(loaded) == {"overcommit": True, "swap": True, "swap_file": "/swapfile",
                                "swap_size": "4G", "swap_bytes": 4 << 30}


def test_the_shipped_file_gives_the_defaults():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    loaded = config.load(os.path.join(repo, "conf", "cidx-sysprep.conf"), environ={})
    assert settings(loaded) == settings(Config())


def test_each_key_is_read(tmp_path):
    loaded = load_text(tmp_path, "# comment\n\n  OVERCOMMIT = no\nSWAP=off\n"
                                 "SWAP_FILE=\"/data/swap\"\nSWAP_SIZE='512M'\n")
    assert settings(loaded) == {"overcommit": False, "swap": False, "swap_file": "/data/swap",
                                "swap_size": "512M", "swap_bytes": 512 << 20}


@pytest.mark.parametrize("text,value", [
    ("yes", True), ("true", True), ("on", True), ("1", True), ("YES", True), ("On", True),
    ("no", False), ("false", False), ("off", False), ("0", False), ("No", False),
])
def test_boolean_spellings(tmp_path, text, value):
    assert load_text(tmp_path, f"SWAP={text}\n").swap is value


def test_a_later_line_wins(tmp_path):
    assert load_text(tmp_path, "SWAP_SIZE=1G\nSWAP_SIZE=2G\n").swap_bytes == 2 << 30


def test_unknown_key_names_file_line_and_the_keys(tmp_path):
    path = str(tmp_path / "cidx-sysprep.conf")
    with pytest.raises(ConfigError) as raised:
        load_text(tmp_path, "# c\nSWAP=yes\nSWAPSIZE=4G\n")
    assert str(raised.value) == (f"{path}:3: 'SWAPSIZE=4G': expected one of "
                                 "OVERCOMMIT=, SWAP=, SWAP_FILE=, SWAP_SIZE=")


def test_line_without_equals_is_an_error_with_its_line(tmp_path):
    path = str(tmp_path / "cidx-sysprep.conf")
    with pytest.raises(ConfigError, match=f"^{path}:2: 'SWAP no': expected one of "):
        load_text(tmp_path, "\nSWAP no\n")


def test_keys_are_case_sensitive(tmp_path):
    with pytest.raises(ConfigError, match=r":1: 'swap=no'"):
        load_text(tmp_path, "swap=no\n")


@pytest.mark.parametrize("line,names", [
    ("SWAP=maybe", "SWAP='maybe'"),
    ("OVERCOMMIT=2", "OVERCOMMIT='2'"),
    ("SWAP_SIZE=4GB", "SWAP_SIZE='4GB'"),
    ("SWAP_FILE=swapfile", "SWAP_FILE='swapfile'"),
])
def test_bad_value_names_the_key_and_value(tmp_path, line, names):
    with pytest.raises(ConfigError, match=names):
        load_text(tmp_path, f"# c\n{line}\n")


@pytest.mark.parametrize("line,message", [
    ("SWAP=maybe", "SWAP='maybe': use yes or no"),
    ("OVERCOMMIT=2", "OVERCOMMIT='2': use yes or no"),
    ("SWAP_SIZE=4GB", "SWAP_SIZE='4GB': use a whole number with K, M, G or T, like 4G"),
    ("SWAP_FILE=swapfile", "SWAP_FILE='swapfile': use an absolute file path without spaces"),
])
def test_bad_value_names_the_file_and_line(tmp_path, line, message):
    # DEPLOY-GENERAL-115 tells the operator to "fix the named line": a bad value on line
    # 3 must say where it is, as an unknown key does.
    path = str(tmp_path / "cidx-sysprep.conf")
    with pytest.raises(ConfigError) as raised:
        load_text(tmp_path, f"# c\n\n{line}\n")
    assert str(raised.value) == f"{path}:3: {message}"


def test_bad_value_on_a_later_duplicate_line_names_that_line(tmp_path):
    path = str(tmp_path / "cidx-sysprep.conf")
    with pytest.raises(ConfigError, match=f"^{path}:2: SWAP="):
        load_text(tmp_path, "SWAP=yes\nSWAP=perhaps\n")


@pytest.mark.parametrize("variable,key", [("CIDX_SYSPREP_SWAP", "SWAP"),
                                          ("CIDX_SYSPREP_OVERCOMMIT", "OVERCOMMIT")])
def test_bad_environment_override_names_the_variable(tmp_path, variable, key):
    # The file is fine; an operator reading "SWAP='maybe'" would look in the file in vain.
    with pytest.raises(ConfigError) as raised:
        load_text(tmp_path, f"{key}=yes\n", environ={variable: "maybe"})
    assert str(raised.value) == f"{variable}: {key}='maybe': use yes or no"


@pytest.mark.parametrize("path", ["relative/swap", "/data/", "/my swap", "/tab\tswap", ""])
def test_swap_file_must_be_an_absolute_file_path_without_spaces(tmp_path, path):
    with pytest.raises(ConfigError, match=r"use an absolute file path without spaces"):
        load_text(tmp_path, f"SWAP_FILE={path}\n")


def test_unreadable_config_is_an_error_naming_the_path(tmp_path):
    directory = tmp_path / "a-directory.conf"
    directory.mkdir()
    with pytest.raises(ConfigError) as raised:
        config.load(str(directory), environ={})
    assert str(raised.value) == f"{directory}: Is a directory"


def test_environment_opt_outs_override_the_file(tmp_path):
    loaded = load_text(tmp_path, "SWAP=yes\nOVERCOMMIT=yes\n",
                       environ={"CIDX_SYSPREP_SWAP": "no", "CIDX_SYSPREP_OVERCOMMIT": "no"})
    assert (loaded.swap, loaded.overcommit) == (False, False)


def test_environment_can_also_switch_on(tmp_path):
    loaded = load_text(tmp_path, "SWAP=no\n", environ={"CIDX_SYSPREP_SWAP": "yes"})
    assert loaded.swap is True


def test_empty_environment_value_is_ignored(tmp_path):
    loaded = load_text(tmp_path, "SWAP=no\n", environ={"CIDX_SYSPREP_SWAP": ""})
    assert loaded.swap is False


def test_only_the_two_opt_outs_come_from_the_environment(tmp_path):
    loaded = config.load(str(tmp_path / "missing.conf"),
                         environ={"CIDX_SYSPREP_SWAP_FILE": "/other", "CIDX_SYSPREP_SWAP_SIZE": "1G"})
    assert (loaded.swap_file, loaded.swap_size) == ("/swapfile", "4G")


def test_cidx_sysprep_config_names_another_file(tmp_path):
    other = str(tmp_path / "other.conf")
    write(other, "SWAP_SIZE=2G\n")
    loaded = config.load(environ={"CIDX_SYSPREP_CONFIG": other})
    assert loaded.swap_size == "2G"


def test_an_explicit_path_beats_cidx_sysprep_config(tmp_path):
    explicit, other = str(tmp_path / "explicit.conf"), str(tmp_path / "other.conf")
    write(explicit, "SWAP_SIZE=1G\n")
    write(other, "SWAP_SIZE=2G\n")
    assert config.load(explicit, environ={"CIDX_SYSPREP_CONFIG": other}).swap_size == "1G"


@pytest.mark.parametrize("text,size", [
    ("4G", 4 << 30), ("4g", 4 << 30), ("512M", 512 << 20), ("1T", 1 << 40),
    ("40K", 40 << 10), ("65536K", 64 << 20), ("40960", 40960), ("1048576", 1 << 20),
])
def test_parse_size(text, size):
    assert config.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "G", "4GB", "1.5G", "-4G", "4 G", "4P", "0x10", "4Gi"])
def test_parse_size_rejects_malformed(text):
    with pytest.raises(ConfigError) as raised:
        config.parse_size(text)
    assert str(raised.value) == f"SWAP_SIZE={text!r}: use a whole number with K, M, G or T, like 4G"


@pytest.mark.parametrize("text", ["0", "0G", "39K", "40959", "40961", "1000000"])
def test_parse_size_rejects_too_small_or_not_whole_kib(text):
    with pytest.raises(ConfigError) as raised:
        config.parse_size(text)
    assert str(raised.value) == f"SWAP_SIZE={text!r}: swap space needs a whole number of K, 40K at least"


@pytest.mark.parametrize("text", ["\u00b2G", "\u2074"])
def test_parse_size_rejects_digit_like_characters_with_a_config_error(text):
    # str.isdigit() is true for superscripts, but int() refuses them: a ValueError here
    # escapes the CLI's ConfigError handling as a traceback.
    with pytest.raises(ConfigError):
        config.parse_size(text)


def test_config_object_keeps_the_size_as_written():
    assert Config(swap_size="4g").swap_size == "4g"
    assert Config(swap_size="4g").swap_bytes == 4 << 30


def test_trailing_comments_are_comments_as_in_shell(tmp_path):
    loaded = load_text(tmp_path, "SWAP=no  # a Kubernetes node\nSWAP_SIZE=2G\t# smaller\n")
    assert (loaded.swap, loaded.swap_size) == (False, "2G")
