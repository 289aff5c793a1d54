# cidx-sysprep: build the packages, run the tests, measure.
# Every target first installs what it needs (apt packages, a virtual environment for
# pip-only test tools), so `make packages` and `make test` work on a fresh Debian 12 machine.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# Debian's own python3 first: a pyenv shim breaks stdeb's --install-layout=deb and
# starts 9x slower than /usr/bin/python3.
export PATH := /usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND := noninteractive
PYTHON := /usr/bin/python3
VENV := .venv
PYTEST := $(VENV)/bin/pytest
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

APT_BASE := python3 python3-venv
APT_BUILD := build-essential python3-stdeb python3-all python3-setuptools debhelper dh-python fakeroot \
	rpm createrepo-c apt-utils lintian shellcheck git
# rpmlint (in the venv) imports python3-rpm; the scriptlet tests unpack an mmdebstrap rootfs.
APT_PACKAGING_TEST := python3-rpm mmdebstrap
APT_VM := qemu-system-x86 qemu-utils mmdebstrap e2fsprogs git

# Install the named Debian packages that are missing; silent when all are present.
define apt_ensure
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -qx 'install ok installed' || echo "$$p"; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "make: installing" $$missing; \
		$(SUDO) apt-get update -qq; \
		$(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

.PHONY: all packages test test-unit test-packaging test-vm bench docs clean deps-base deps-build deps-vm

all: packages

deps-base:
	$(call apt_ensure,$(APT_BASE))

deps-build: deps-base
	$(call apt_ensure,$(APT_BUILD))

deps-vm: deps-base
	$(call apt_ensure,$(APT_VM))

.PHONY: deps-packaging-test
deps-packaging-test: deps-base
	$(call apt_ensure,$(APT_PACKAGING_TEST))

# pytest-subprocess and rpmlint are not packaged in Debian 12: a venv holds them.
# --system-site-packages lets rpmlint import Debian's python3-rpm bindings.
$(VENV)/.installed: tests/requirements.txt | deps-base
	@[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv --system-site-packages $(VENV)
	@$(VENV)/bin/pip install -q -r tests/requirements.txt
	@touch $@

test: test-unit test-packaging test-vm

test-unit: $(VENV)/.installed
	$(PYTEST) -q tests/unit

# dist/cidx-sysprep_<version>-1_all.deb, dist/cidx-sysprep-<version>-1.noarch.rpm and
# the repositories dist/apt/ and dist/rpm/, reproducibly (tools/build-packages).
packages: deps-build
	@tools/build-packages

test-packaging: packages deps-packaging-test $(VENV)/.installed
	$(PYTEST) -q tests/packaging

# Boots Debian 12 under qemu (TCG: nested KVM hangs here) and runs issue 5's scenarios
# inside it; no Vagrant box needed. About 5 minutes, from cold too (the rootfs is cached
# in ~/.cache/cidx-sysprep/, which `make clean` leaves); what it prints is in docs/vm-tests.md.
test-vm: packages deps-vm $(VENV)/.installed
	$(PYTEST) -q tests/vm

# Side-by-side timings, one run, interleaved (bench/bench.py): the converged check vs a
# bare interpreter and vs the story's forks, fallocate vs dd, dpkg -i vs an empty package
# in a throwaway root. About a minute; leaves the host as it was.
bench: deps-build $(VENV)/.installed
	$(VENV)/bin/python bench/bench.py

docs: $(VENV)/.installed
	$(VENV)/bin/python -m cidx_sysprep.errors --markdown > docs/error-codes.md
	$(VENV)/bin/python -m cidx_sysprep.errors --man docs/cidx-sysprep.8

clean:
	rm -rf build dist deb_dist .cache *.egg-info $(VENV)
