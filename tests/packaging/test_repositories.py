"""dist/apt/ and dist/rpm/ describe the built packages, and a rebuild is byte-identical."""
import gzip
import os
import subprocess
import xml.etree.ElementTree as ET

from tests.packaging.conftest import DIST, REPO, run, sha256, version

REPO_NS = {"repo": "http://linux.duke.edu/metadata/repo",
           "common": "http://linux.duke.edu/metadata/common"}


def stanza(text):
    return dict(line.split(": ", 1) for line in text.strip().splitlines() if ": " in line)


def test_apt_repository_lists_the_deb_with_its_checksum(deb):
    packages = (DIST / "apt/Packages").read_text()
    assert packages.count("Package: ") == 1
    fields = stanza(packages)
    assert fields["Package"] == "cidx-sysprep"
    assert fields["Version"] == f"{version()}-1"
    assert fields["Filename"] == f"./{deb.name}"
    assert fields["SHA256"] == sha256(DIST / "apt" / deb.name) == sha256(deb)
    assert gzip.decompress((DIST / "apt/Packages.gz").read_bytes()).decode() == packages


def test_apt_release_hashes_the_package_indexes():
    release = (DIST / "apt/Release").read_text()
    sha256_section = release.split("SHA256:\n", 1)[1]
    listed = {}
    for line in sha256_section.splitlines():
        if not line.startswith(" "):
            break
        digest, size, name = line.split()
        listed[name] = (digest, int(size))
    assert listed == {name: (sha256(DIST / "apt" / name), os.path.getsize(DIST / "apt" / name))
                      for name in ("Packages", "Packages.gz")}


def test_rpm_repository_metadata_lists_the_rpm(rpm):
    repomd = ET.parse(DIST / "rpm/repodata/repomd.xml").getroot()
    locations = {data.get("type"): data.find("repo:location", REPO_NS).get("href")
                 for data in repomd.findall("repo:data", REPO_NS)}
    assert {"primary", "filelists", "other"} <= set(locations)
    primary = ET.fromstring(gzip.decompress((DIST / "rpm" / locations["primary"]).read_bytes()))
    (package,) = primary.findall("common:package", REPO_NS)
    assert package.find("common:name", REPO_NS).text == "cidx-sysprep"
    assert package.find("common:location", REPO_NS).get("href") == rpm.name
    checksum = package.find("common:checksum", REPO_NS)
    assert checksum.get("type") == "sha256"
    assert checksum.text == sha256(DIST / "rpm" / rpm.name) == sha256(rpm)


def test_a_second_build_is_byte_identical(tmp_path):
    """The same commit built again, elsewhere, gives the same files in dist/."""
    env = {**os.environ, "BUILD_DIR": str(tmp_path / "build"), "DIST_DIR": str(tmp_path / "dist")}
    result = subprocess.run([REPO / "tools/build-packages"], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr

    def digests(top):
        return {str(path.relative_to(top)): sha256(path)
                for path in sorted(top.rglob("*")) if path.is_file()}

    again = digests(tmp_path / "dist")
    assert again == digests(DIST), (
        "dist/ differs from a fresh build; if HEAD moved since `make packages`, rebuild: "
        + run("git", "-C", REPO, "log", "-1", "--format=%h %cd").stdout)
