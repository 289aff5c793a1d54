"""/etc/fstab as data: parsing as fstab(5) reads it, and edits that keep every other byte."""
from cidx_sysprep import fstab

# A realistic file: a header comment, tabs and runs of spaces, blank lines, an escaped
# mount point, two swap entries (one by UUID), a commented-out swap line, and a last
# line without a newline.
TEXT = (
    "# /etc/fstab: static file system information.\n"
    "#\n"
    "# <file system> <mount point>   <type>  <options>       <dump>  <pass>\n"
    "UUID=0a1b / ext4 errors=remount-ro 0 1\n"
    "\n"
    "/dev/sdb1\t/mnt/my\\040disk\text4\tdefaults,nofail\t0\t2\n"
    "   \n"
    "UUID=5e6f   none   swap   sw   0   0\n"
    "  # /oldswap none swap sw 0 0\n"
    "#/swapfile none swap sw 0 0\n"
    "/var/swap\\040file none swap sw 0 0"
)


def test_parse_keeps_one_line_per_line_and_splits_only_entries():
    lines = fstab.parse(TEXT)
    assert [line.raw for line in lines] == TEXT.split("\n")
    assert [line.fields for line in lines] == [
        None, None, None,
        ["UUID=0a1b", "/", "ext4", "errors=remount-ro", "0", "1"],
        None,
        ["/dev/sdb1", "/mnt/my disk", "ext4", "defaults,nofail", "0", "2"],
        None,
        ["UUID=5e6f", "none", "swap", "sw", "0", "0"],
        None, None,
        ["/var/swap file", "none", "swap", "sw", "0", "0"],
    ]


def test_line_properties_on_entries_comments_and_short_lines():
    entry, comment, short = fstab.parse("/dev/sda1 / ext4 defaults 0 1\n# c\n/dev/sdc1 /x\n")
    assert (entry.spec, entry.vfstype) == ("/dev/sda1", "ext4")
    assert (comment.spec, comment.vfstype) == (None, None)
    assert (short.spec, short.vfstype) == ("/dev/sdc1", None)


def test_swap_specs_lists_swap_entries_in_order_and_not_commented_ones():
    assert fstab.swap_specs(fstab.parse(TEXT)) == ["UUID=5e6f", "/var/swap file"]


def test_swap_specs_of_an_empty_file():
    assert fstab.swap_specs(fstab.parse("")) == []


def test_entry_for_finds_an_active_entry_by_unescaped_spec():
    lines = fstab.parse(TEXT)
    assert fstab.entry_for(lines, "/var/swap file").raw == "/var/swap\\040file none swap sw 0 0"
    assert fstab.entry_for(lines, "UUID=5e6f").raw == "UUID=5e6f   none   swap   sw   0   0"


def test_entry_for_ignores_commented_out_lines():
    assert fstab.entry_for(fstab.parse(TEXT), "/swapfile") is None
    assert fstab.entry_for(fstab.parse(TEXT), "/oldswap") is None


def test_entry_for_returns_the_first_of_duplicates():
    lines = fstab.parse("/swapfile none swap sw 0 0\n/swapfile none swap defaults 0 0\n")
    assert fstab.entry_for(lines, "/swapfile") is lines[0]


def test_unescape_octal_sequences():
    assert fstab.unescape("/mnt/a\\040b") == "/mnt/a b"
    assert fstab.unescape("a\\011b\\012c\\134d") == "a\tb\nc\\d"
    assert fstab.unescape("plain") == "plain"


def test_unescape_leaves_backslashes_that_are_not_three_octal_digits():
    assert fstab.unescape("a\\08b") == "a\\08b"
    assert fstab.unescape("a\\04") == "a\\04"
    assert fstab.unescape("end\\") == "end\\"
    assert fstab.unescape("x\\y") == "x\\y"


def test_swap_line():
    assert fstab.swap_line("/swapfile") == "/swapfile none swap sw 0 0"


def test_with_line_appends_and_keeps_everything_else():
    text = TEXT + "\n"
    assert fstab.with_line(text, "/swapfile none swap sw 0 0") == text + "/swapfile none swap sw 0 0\n"


def test_with_line_supplies_a_missing_final_newline_first():
    assert fstab.with_line(TEXT, "/swapfile none swap sw 0 0") == (
        TEXT + "\n/swapfile none swap sw 0 0\n")


def test_with_line_on_an_empty_file():
    assert fstab.with_line("", "/swapfile none swap sw 0 0") == "/swapfile none swap sw 0 0\n"


def test_without_line_removes_only_exact_matches():
    line = "/swapfile none swap sw 0 0"
    text = ("# keep\n"
            f"{line}\n"
            "\t/dev/sda1\t/\text4\tdefaults 0 1\n"
            f"#{line}\n"
            f"{line}  \n"             # trailing blanks: not the line we added
            f"/swapfile\tnone\tswap\tsw\t0\t0\n"  # same entry, other bytes: an operator's
            "\n"
            f"{line}\n")
    assert fstab.without_line(text, line) == ("# keep\n"
                                              "\t/dev/sda1\t/\text4\tdefaults 0 1\n"
                                              f"#{line}\n"
                                              f"{line}  \n"
                                              "/swapfile\tnone\tswap\tsw\t0\t0\n"
                                              "\n")


def test_without_line_as_the_last_line_without_newline():
    assert fstab.without_line("a\n/swapfile none swap sw 0 0", "/swapfile none swap sw 0 0") == "a\n"


def test_without_line_keeps_crlf_lines_it_does_not_remove():
    text = "a\r\n/swapfile none swap sw 0 0\r\nb\r\n"
    assert fstab.without_line(text, "/swapfile none swap sw 0 0") == "a\r\nb\r\n"


def test_without_line_when_absent_returns_the_same_text():
    text = TEXT + "\n"
    assert fstab.without_line(text, "/swapfile none swap sw 0 0") == text


def test_with_then_without_is_the_original_file():
    text = TEXT + "\n"
    line = "/swapfile none swap sw 0 0"
    assert fstab.without_line(fstab.with_line(text, line), line) == text


def test_read_gives_the_text_and_an_empty_one_for_a_missing_file(tmp_path):
    path = tmp_path / "fstab"
    assert fstab.read(str(path)) == ""
    path.write_text("a\tb\n# c")
    assert fstab.read(str(path)) == "a\tb\n# c"
