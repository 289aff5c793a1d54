#!/bin/sh
# Verify that this host is provisioned the way cidx-sysprep promises (issue 5).
# Shared by the Vagrant machines (Vagrantfile) and the qemu suite (tests/vm/).
# Prints every measured value; exits 1 when any check fails, 0 when all pass.
#
# Expected values (override for a non-default /etc/cidx-sysprep.conf):
#   VERIFY_SWAP_FILE=/swapfile  VERIFY_SWAP_BYTES=4294967296
set -u

DROPIN=/etc/sysctl.d/99-cidx-memory.conf
SWAP_FILE=${VERIFY_SWAP_FILE:-/swapfile}
SWAP_BYTES=${VERIFY_SWAP_BYTES:-4294967296}
# /proc/swaps counts KiB without the one-page header mkswap writes.
SWAP_KIB=$((SWAP_BYTES / 1024 - 4))
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
failures=0

check() {  # check NAME EXPECTED MEASURED
	if [ "$2" = "$3" ]; then
		printf 'verify: ok   %s = %s\n' "$1" "$3"
	else
		printf 'verify: FAIL %s = %s (expected %s)\n' "$1" "$3" "$2"
		failures=$((failures + 1))
	fi
}

# The drop-in's settings: every line that is not a comment or blank, spaces normalised.
if [ -f "$DROPIN" ]; then
	settings=$(sed -e 's/[#;].*//' -e 's/[[:space:]]\{1,\}/ /g' -e 's/^ //' -e 's/ $//' \
		-e '/^$/d' "$DROPIN" | awk '{ printf "%s%s", sep, $0; sep = "; " }')
else
	settings=missing
fi
check "$DROPIN settings" "vm.overcommit_memory = 1" "${settings:-none}"

check "sysctl -n vm.overcommit_memory" 1 "$(sysctl -n vm.overcommit_memory 2>&1)"

# /proc/swaps: Filename Type Size Used Priority
active=$(awk -v f="$SWAP_FILE" 'NR > 1 && $1 == f { print $2 " " $3 "KiB" }' /proc/swaps)
check "$SWAP_FILE in /proc/swaps (type size)" "file ${SWAP_KIB}KiB" "${active:-not active}"

if [ -f "$SWAP_FILE" ]; then
	check "$SWAP_FILE size" "$SWAP_BYTES" "$(stat -c %s "$SWAP_FILE")"
	check "$SWAP_FILE mode" 600 "$(stat -c %a "$SWAP_FILE")"
	check "$SWAP_FILE owner" root "$(stat -c %U "$SWAP_FILE")"
else
	check "$SWAP_FILE exists" yes no
fi

entries=$(awk -v f="$SWAP_FILE" '$1 == f' /etc/fstab)
count=$(awk -v f="$SWAP_FILE" '$1 == f' /etc/fstab | wc -l | tr -d ' ')
check "/etc/fstab entries for $SWAP_FILE" 1 "$count"
check "/etc/fstab entry type" swap "$(printf '%s\n' "$entries" | awk 'NR == 1 { print $3 }')"
printf 'verify: info fstab entry: %s\n' "$entries"

status_out=$(cidx-sysprep status 2>&1)
status_rc=$?
printf '%s\n' "$status_out" | sed 's/^/verify: info status | /'
check "cidx-sysprep status exit code" 0 "$status_rc"

if [ "$failures" -eq 0 ]; then
	echo "verify: PASS"
	exit 0
fi
echo "verify: FAIL ($failures check(s) failed)"
exit 1
