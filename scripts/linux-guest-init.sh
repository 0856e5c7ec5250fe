#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the realmkit Linux guest initramfs (scripts/linux-guest.sh puts it there; it runs
# under Debian's busybox-static, /bin/sh -> busybox). The protocol (docs/linux-guest.md):
#   - the command is the text after the first " -- " of /proc/cmdline, run by `sh -c`
#     (the kernel also hands those words to init as arguments; they are not used: the
#     text in /proc/cmdline keeps the user's quoting); no " -- ": a shell on the console;
#   - before the command: the line "RK-GUEST: ready"; after it: "RK-GUEST: exit STATUS"
#     (STATUS is the command's or the shell's exit status), then the machine powers off.
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

read -r cmdline </proc/cmdline
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
