#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the realmkit Linux guest initramfs (scripts/linux-guest.sh puts it there; it runs
# under Debian's busybox-static, /bin/sh -> busybox). The protocol (docs/linux-guest.md):
#   - the command is the text after the first " -- " of /proc/cmdline, run by `sh -c`
#     (the kernel also hands those words to init as arguments; they are not used: the
#     text in /proc/cmdline keeps the user's quoting); no " -- ": a shell on the console;
#   - before the command: the line "RK-GUEST: ready"; after it: "RK-GUEST: exit STATUS"
#     (STATUS is the command's or the shell's exit status), then the machine powers off;
#     `realmkit run --kernel ... -- COMMAND` exits with STATUS;
#   - rk.challenge=HEX (64 bytes) before the " -- " (realmkit run --attest HEX): before the
#     command, an attestation token for HEX through configfs-tsm (tsm_report, arm-cca-guest),
#     printed as "RK-GUEST: token-begin", "RK-GUEST: token HEX" lines (16 bytes each) and
#     "RK-GUEST: token-end LENGTH", or "RK-GUEST: token-error WHY"; realmkit run takes the
#     token lines out of its output and writes the token to --token-out.
# Modules listed in /etc/rk-modules (paths under /lib/modules/RELEASE, dependencies first)
# are loaded with insmod; a module that does not load (arm-cca-guest outside a realm)
# is reported and skipped.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
/bin/busybox --install -s

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

rel=$(uname -r)
if [ -f /etc/rk-modules ]; then
	while read -r mod; do
		[ -n "$mod" ] || continue
		insmod "/lib/modules/$rel/$mod" || echo "RK-GUEST: insmod $mod failed"
	done </etc/rk-modules
fi
mount -t configfs configfs /sys/kernel/config || echo "RK-GUEST: no configfs"

# rk_cmd CMDLINE: the text after the first " -- " (empty when there is none)
rk_cmd() {
	set -- " $1"
	case "$1" in
	*" -- "*) printf '%s\n' "${1#* -- }" ;;
	esac
}

# rk_challenge CMDLINE: the value of rk.challenge= before the first " -- " (empty when none)
rk_challenge() {
	set -- " $1 "
	case "$1" in *" -- "*) set -- "${1%% -- *} " ;; esac
	case "$1" in
	*" rk.challenge="*)
		set -- "${1#* rk.challenge=}"
		printf '%s\n' "${1%% *}"
		;;
	esac
}

# rk_attest HEX: the token for challenge HEX from configfs-tsm ($RK_TSM: the report folder)
rk_attest() {
	case "$1" in
	*[!0-9a-fA-F]*)
		echo "RK-GUEST: token-error rk.challenge is not hex"
		return 1
		;;
	esac
	if [ ${#1} -ne 128 ]; then
		echo "RK-GUEST: token-error rk.challenge is not 64 bytes (128 hex digits)"
		return 1
	fi
	r=${RK_TSM:-/sys/kernel/config/tsm/report}/rk-token
	if ! mkdir "$r"; then
		echo "RK-GUEST: token-error cannot create $r (configfs, tsm_report, arm-cca-guest?)"
		return 1
	fi
	if ! printf '%s' "$1" | xxd -r -p >"$r/inblob" || ! cat "$r/outblob" >/tmp/rk-token; then
		echo "RK-GUEST: token-error the report's inblob/outblob failed (provider: $(cat "$r/provider" 2>/dev/null))"
		rmdir "$r"
		return 1
	fi
	rmdir "$r"
	n=$(wc -c </tmp/rk-token | tr -d ' ')
	if [ "$n" -eq 0 ]; then
		echo "RK-GUEST: token-error the report's outblob is empty"
		return 1
	fi
	echo "RK-GUEST: token-begin"
	od -An -v -tx1 /tmp/rk-token | sed 's/ //g; /^$/d; s/^/RK-GUEST: token /'
	echo "RK-GUEST: token-end $n"
}

read -r cmdline </proc/cmdline
challenge=$(rk_challenge "$cmdline")
[ -z "$challenge" ] || rk_attest "$challenge"
cmd=$(rk_cmd "$cmdline")
echo "RK-GUEST: ready"
if [ -n "$cmd" ]; then
	sh -c "$cmd"
	status=$?
else
	setsid cttyhack sh
	status=$?
fi
echo "RK-GUEST: exit $status"
sync
poweroff -f
# poweroff returned: PID 1 must not exit (the kernel would panic); ask again through sysrq
echo o >/proc/sysrq-trigger
while :; do sleep 1; done
