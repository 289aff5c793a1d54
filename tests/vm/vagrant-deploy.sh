#!/bin/sh
# Vagrant provisioner (see Vagrantfile): the story on a real Debian 12 or AlmaLinux 9 box.
# What tests/vm/guest/scenario_lifecycle.py does in the qemu suite's first boot:
#   1. make the box the story's server: no swap, vm.overcommit_memory = 0
#   2. add the local package repository that `make packages` built (dist/apt or dist/rpm)
#   3. set up and start the stand-in CIDX server (tests/vm/setup-cidx-stand-in.sh) and
#      show its fork failing with ENOMEM
#   4. run the auto-updater, DeploymentExecutor.execute(): git pull, pip install, the
#      cidx-sysprep package from the local repository (apt-get/dnf), Steps 9 and 10,
#      restart; show the same still-running process forking
#   5. tests/vm/verify.sh
# Vagrant then reboots the box (reboot: true) and runs verify.sh again.
#
#   vagrant-deploy.sh apt|dnf
set -eu

REPO=/vagrant
VM=$REPO/tests/vm
PACKAGER=${1:?usage: vagrant-deploy.sh apt|dnf}

say() { printf '\n== %s\n' "$*"; }

# Once per box: `vagrant provision` again must find the provisioned host and show the
# idempotent re-run, not a host made bare again.
PREPARED=/var/lib/cidx-vagrant-prepared
if [ ! -e "$PREPARED" ]; then
	say "the story's server: no swap, vm.overcommit_memory = 0"
	# A box may come with a swap partition or file; the story's server has none.
	swapoff -a
	if awk '!/^[[:space:]]*#/ && $3 == "swap" { found = 1 } END { exit !found }' /etc/fstab; then
		cp -p /etc/fstab /etc/fstab.before-cidx-vagrant
		awk '!/^[[:space:]]*#/ && $3 == "swap" { print "# (cidx vagrant) " $0; next } { print }' \
			/etc/fstab.before-cidx-vagrant > /etc/fstab
	fi
	sysctl -w vm.overcommit_memory=0
	touch "$PREPARED"
fi
free -m

say "the local package repository ($PACKAGER)"
case $PACKAGER in
apt)
	rm -rf /srv/cidx-apt
	cp -r "$REPO/dist/apt" /srv/cidx-apt
	echo "deb [trusted=yes] file:/srv/cidx-apt ./" > /etc/apt/sources.list.d/cidx-local.list
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q git python3-venv
	;;
dnf)
	rm -rf /srv/cidx-rpm
	cp -r "$REPO/dist/rpm" /srv/cidx-rpm
	cat > /etc/yum.repos.d/cidx-local.repo <<EOF
[cidx-local]
name=cidx-sysprep, built locally by make packages
baseurl=file:///srv/cidx-rpm
enabled=1
# A repository on this machine's own disk, built from this checkout: nothing to verify.
gpgcheck=0
repo_gpgcheck=0
EOF
	dnf install -y -q git python3
	;;
*)
	echo "vagrant-deploy.sh: unknown packager $PACKAGER" >&2
	exit 2
	;;
esac

say "stand-in CIDX server"
sh "$VM/setup-cidx-stand-in.sh" setup
sh "$VM/setup-cidx-stand-in.sh" start
say "fork probe of the bystander process before the fix (expect errno 12 on the forking paths)"
python3 /opt/cidx-server/stand_in_server.py probe --socket /run/cidx-bystander.sock

say "auto-updater: DeploymentExecutor.execute()"
PYTHONPATH=$REPO python3 -m cidx_sysprep.auto_update.run_once \
	--checkout /opt/cidx-server --venv /opt/cidx-venv --service cidx-server --verbose
case $PACKAGER in
apt) dpkg-query -W cidx-sysprep ;;
dnf) rpm -q cidx-sysprep ;;
esac

say "fork probe of the same bystander process after the fix (expect every path ok)"
python3 /opt/cidx-server/stand_in_server.py probe --socket /run/cidx-bystander.sock

say "verify before the reboot"
sh "$VM/verify.sh"
