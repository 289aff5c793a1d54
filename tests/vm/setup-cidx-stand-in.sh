#!/bin/sh
# Set up a stand-in CIDX server on this (throwaway) host, for the auto-updater to work on.
# Shared by the qemu suite (tests/vm/) and the Vagrant machines (Vagrantfile).
#
#   setup-cidx-stand-in.sh setup   a bare origin repository; a checkout one release
#                                  behind it (so the auto-updater's git pull and pip
#                                  install have work); the venv; two systemd units:
#                                  cidx-server.service, the server the deployment
#                                  restarts, and cidx-bystander.service, the same
#                                  program standing for a long-running server process
#                                  the deployment does not restart (the fix must
#                                  reach it without a restart)
#   setup-cidx-stand-in.sh start   start both the way production gets into trouble:
#                                  their big mappings are made while overcommit is 1,
#                                  then the host's value is put back (see start below)
#
# Paths: CIDX_ORIGIN (/srv/cidx-origin.git), CIDX_CHECKOUT (/opt/cidx-server),
# CIDX_VENV (/opt/cidx-venv). Idempotent: a second setup changes nothing.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
ORIGIN=${CIDX_ORIGIN:-/srv/cidx-origin.git}
CHECKOUT=${CIDX_CHECKOUT:-/opt/cidx-server}
VENV=${CIDX_VENV:-/opt/cidx-venv}

commit() {  # commit DIR MESSAGE: no global git identity needed
	git -C "$1" -c user.name="cidx stand-in" -c user.email=stand-in@cidx.invalid \
		commit -q -m "$2"
}

release() {  # release DIR N: the checkout's RELEASE file is the installed version
	echo "release $2" > "$1/RELEASE"
	git -C "$1" add RELEASE
	commit "$1" "release $2"
	git -C "$1" push -q "$ORIGIN" master
}

unit() {  # unit NAME DESCRIPTION SOCKET
	cat > "/etc/systemd/system/$1.service.tmp" <<EOF
# From tests/vm/setup-cidx-stand-in.sh: a process holding a private writable mapping
# larger than RAM + swap; "stand_in_server.py probe --socket $3" asks it to fork.
[Unit]
Description=$2

[Service]
Type=notify
NotifyAccess=main
WorkingDirectory=$CHECKOUT
ExecStart=$VENV/bin/python $CHECKOUT/stand_in_server.py serve --socket $3
EOF
	mv "/etc/systemd/system/$1.service.tmp" "/etc/systemd/system/$1.service"
}

setup() {
	if [ ! -d "$ORIGIN" ]; then
		seed=$(mktemp -d)
		git init -q -b master "$seed"
		git init -q --bare -b master "$ORIGIN"
		cp "$here/stand_in_server.py" "$here/stand_in_build.py" "$seed/"
		# An in-tree build backend with no requirements: pip installs it offline.
		printf '[build-system]\nrequires = []\nbuild-backend = "stand_in_build"\nbackend-path = ["."]\n' \
			> "$seed/pyproject.toml"
		git -C "$seed" add stand_in_server.py stand_in_build.py pyproject.toml
		release "$seed" 1
		git clone -q "$ORIGIN" "$CHECKOUT"
		release "$seed" 2
		rm -rf "$seed"
	fi
	if [ ! -x "$VENV/bin/pip" ]; then
		python3 -m venv "$VENV"
		"$VENV/bin/pip" install --quiet --disable-pip-version-check "$CHECKOUT"
	fi
	unit cidx-server "Stand-in CIDX server" /run/cidx-server.sock
	unit cidx-bystander "Stand-in long-running CIDX process (not restarted)" /run/cidx-bystander.sock
	systemctl daemon-reload
}

# A long-running server's mappings grow while the kernel lets them; mode 0 refuses a
# single new mapping larger than RAM + swap but never takes back one that exists, and
# it is at fork() that every private writable mapping is charged again. So map with
# overcommit 1, then restore the host's value, which is what the server then lives with.
start() {
	before=$(cat /proc/sys/vm/overcommit_memory)
	echo 1 > /proc/sys/vm/overcommit_memory
	if ! systemctl start cidx-server.service cidx-bystander.service; then
		echo "$before" > /proc/sys/vm/overcommit_memory
		exit 1
	fi
	echo "$before" > /proc/sys/vm/overcommit_memory
	for name in cidx-server cidx-bystander; do
		echo "$name started: MainPID $(systemctl show -P MainPID "$name.service")"
	done
	echo "vm.overcommit_memory back to $before"
}

case "${1:-}" in
setup) setup ;;
start) start ;;
*) echo "usage: $0 setup|start" >&2; exit 2 ;;
esac
