#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Linux guest kit (issue 13, first part): Debian's arm64 cloud kernel with Arm CCA realm
# guest support, the modules attestation needs, and busybox in an initramfs, fetched from
# Debian's registry and cached, for `realmkit run --kernel`; docs/linux-guest.md says what is built.
#
#   scripts/linux-guest.sh [--out DIR] [--mirror URL] [--suite SUITE] [--keyring FILE]
#                          [--force] [--offline]
#
#   --out DIR       cache folder (default $RK_LINUX_GUEST_DIR, else
#                   ${XDG_CACHE_HOME:-$HOME/.cache}/realmkit/linux)
#   --mirror URL    Debian mirror (default http://deb.debian.org/debian)
#   --suite SUITE   where the kernel comes from (default: the first of trixie-backports,
#                   sid whose linux-image-cloud-arm64 is 6.13 or later); busybox-static
#                   comes from the base suite (trixie; SUITE without -backports)
#   --keyring FILE  keys the registry's Release files must be signed with (default
#                   /usr/share/keyrings/debian-archive-keyring.gpg)
#   --force         fetch and build again even when the cache is complete
#   --offline       never touch the network: print the cached kit or fail (exit 3)
#
# A run with a complete cache (the manifest's sha256 sums match) does no network access and
# only prints the paths. Output: lines "kernel: PATH", "image: PATH", "initrd: PATH",
# "manifest: PATH". Exit status: 0 done, 1 other failure (a signature or hash that does not
# verify, a missing tool, a kernel without CCA guest support), 2 the registry is unreachable,
# 3 --offline without a complete cache.
#
# apt runs with a temporary configuration of its own (APT_CONFIG, in a folder under the cache
# that is removed at the end): its own sources list, lists, cache, dpkg status and
# preferences; the machine's /etc/apt (apt.conf.d included) is neither read nor written,
# except that an HTTP(S) proxy configured there is passed on.
#
# How downloads are verified: the sources list names the keyring with
# [signed-by=KEYRING], and nothing in the configuration relaxes apt's checks (no
# trusted=yes, no Allow*Insecure*), so `apt-get update` accepts the suite's InRelease only
# with a valid signature by a key in that keyring and the Packages index only when its
# hash matches the one InRelease lists; `apt-get download` accepts a .deb only when its
# hash matches the Packages index. The script then checks each .deb's sha256 against the
# Packages entry once more and records it in the manifest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
me=linux-guest.sh

out=${RK_LINUX_GUEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/realmkit/linux}
mirror=http://deb.debian.org/debian
suite=
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
force=0
offline=0
usage() { sed -n '6,7p' "$0" | sed 's/^# *//' >&2; exit 1; }
while [ $# -gt 0 ]; do
	case $1 in
	--out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
	--mirror) [ $# -ge 2 ] || usage; mirror=${2%/}; shift 2 ;;
	--suite) [ $# -ge 2 ] || usage; suite=$2; shift 2 ;;
	--keyring) [ $# -ge 2 ] || usage; keyring=$2; shift 2 ;;
	--force) force=1; shift ;;
	--offline) offline=1; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "$me: unknown argument '$1'" >&2; usage ;;
	esac
done

die() { echo "$me: $*" >&2; exit 1; }
unreachable() { echo "$me: $1: the Debian registry at $mirror is unreachable" >&2; exit 2; }

pkg="linux-image-cloud-arm64"
min_version=6.13 # Arm CCA realm guest support (RSI, arm-cca-guest) entered Linux 6.13

# --- the cache ---------------------------------------------------------------
manifest=$out/manifest
# what builds the kit: a cache made by other versions of these is not complete
kit_sources() { cat "$here/linux-guest.sh" "$here/linux-guest-tool.py" "$here/linux-guest-init.sh" | sha256sum | cut -d' ' -f1; }
mget() { sed -n "s/^$2=//p" "$1" | head -1; }

cache_complete() { # the manifest and every artifact it names, with matching sha256 sums
	[ -f "$manifest" ] || return 1
	[ "$(mget "$manifest" KIT_FORMAT)" = 1 ] || return 1
	[ "$(mget "$manifest" KIT_SOURCES_SHA256)" = "$(kit_sources)" ] || return 1
	if [ -n "$suite" ] && [ "$(mget "$manifest" SUITE)" != "$suite" ]; then return 1; fi
	local k f sum checked=" "
	for k in KERNEL IMAGE INITRD; do
		f=$(mget "$manifest" "$k")
		sum=$(mget "$manifest" "${k}_SHA256")
		[ -n "$f" ] && [ -f "$out/$f" ] || return 1
		case $checked in *" $f "*) continue ;; esac # IMAGE is KERNEL when Debian ships it raw
		[ "$(sha256sum "$out/$f" | cut -d' ' -f1)" = "$sum" ] || return 1
		checked="$checked$f "
	done
}

print_paths() {
	echo "kernel: $out/$(mget "$manifest" KERNEL)"
	echo "image: $out/$(mget "$manifest" IMAGE)"
	echo "initrd: $out/$(mget "$manifest" INITRD)"
	echo "manifest: $manifest"
}

mkdir -p "$out" || die "cannot create the cache folder $out"
out=$(cd "$out" && pwd)
manifest=$out/manifest
exec 9>"$out/.lock"
flock 9 # one run per cache folder at a time

if [ "$force" -eq 0 ] && cache_complete; then
	print_paths
	exit 0
fi
if [ "$offline" -eq 1 ]; then
	echo "$me: no complete kit in $out (none, or one built by other versions of the kit scripts; run without --offline to fetch it)" >&2
	exit 3
fi

for t in apt-get apt-cache dpkg dpkg-deb python3 sha256sum; do
	command -v "$t" >/dev/null || die "needs $t (scripts/setup.sh installs the packages in deps/debian-packages.txt)"
done
[ -r "$keyring" ] || die "no keyring $keyring (Debian package debian-archive-keyring)"

# --- a temporary apt configuration ------------------------------------------
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
apt=$work/apt
mkdir -p "$apt/etc/parts" "$apt/etc/prefs" "$apt/etc/trusted" "$apt/lists/partial" \
	"$apt/cache/archives/partial" "$apt/state"
: >"$apt/state/status"
{
	# Read before anything else (APT_CONFIG): the machine's apt.conf.d and apt.conf are
	# replaced by empty ones, so none of their hooks or settings apply.
	echo "Dir::Etc::main \"/dev/null\";"
	echo "Dir::Etc::parts \"$apt/etc/parts\";"
	echo "Dir::Etc::sourcelist \"$apt/etc/sources.list\";"
	echo "Dir::Etc::sourceparts \"$apt/etc/parts\";"
	echo "Dir::Etc::preferences \"/dev/null\";"
	echo "Dir::Etc::preferencesparts \"$apt/etc/prefs\";"
	# no machine-wide trusted keys either: only the signed-by keyring counts
	echo "Dir::Etc::trusted \"/dev/null\";"
	echo "Dir::Etc::trustedparts \"$apt/etc/trusted\";"
	echo "Dir::State \"$apt/state\";"
	echo "Dir::State::Lists \"$apt/lists\";"
	echo "Dir::State::status \"$apt/state/status\";"
	echo "Dir::Cache \"$apt/cache\";"
	echo "Dir::Log \"$apt/log\";"
	echo "APT::Architecture \"arm64\";"
	echo "APT::Architectures { \"arm64\"; };"
	echo "Acquire::Languages \"none\";"
	echo "Acquire::Retries \"0\";"
	echo "Acquire::http::Timeout \"30\";"
	echo "Acquire::https::Timeout \"30\";"
	if [ "$(id -u)" -eq 0 ]; then
		echo "APT::Sandbox::User \"root\";" # the _apt user cannot write $work
	fi
	for p in Acquire::http::Proxy Acquire::https::Proxy; do
		v=$(apt-config shell v "$p" 2>/dev/null | sed -n "s/^v='\(.*\)'$/\1/p")
		if [ -n "$v" ]; then echo "$p \"$v\";"; fi
	done
} >"$apt/apt.conf"
export APT_CONFIG=$apt/apt.conf

# apt_failed LOG WHAT: exit with one line saying what failed, when LOG shows a failure
apt_failed() {
	local log=$1 what=$2 line
	if line=$(grep -m1 -E 'NO_PUBKEY|GPG error|is not signed|EXPKEYSIG|BADSIG|signatures? (couldn.t be verified|were invalid)' "$log"); then
		die "$what: the registry's signature does not verify with $keyring: $line"
	fi
	if line=$(grep -m1 -E 'Hash Sum mismatch|Hashes of expected file' "$log"); then
		die "$what: a download does not match the registry's hashes: $line"
	fi
	if line=$(grep -m1 -E 'does not have a Release file' "$log") ||
		line=$(grep -m1 -E '404 +Not Found' "$log"); then
		die "$what: not found at $mirror: $line"
	fi
	if line=$(grep -m1 -E '^E: |^W: (Failed to fetch|Some index files failed)' "$log"); then
		unreachable "$what failed (${line#?: })"
	fi
	return 1
}

suites=()
sources() { # the sources list for the suites in "${suites[@]}"
	local s
	for s in "${suites[@]}"; do
		echo "deb [arch=arm64 signed-by=$keyring] $mirror $s main"
	done >"$apt/etc/sources.list"
}

update() {
	sources
	local log=$work/update.log
	if ! apt-get update >"$log" 2>&1; then
		apt_failed "$log" "apt-get update" || die "apt-get update failed: $(tail -1 "$log")"
	fi
	apt_failed "$log" "apt-get update" || true
}

version_in() { # version_in SUITE PACKAGE: the version SUITE has (empty when none)
	apt-cache madison "$2" 2>/dev/null | awk -F' [|] ' -v s=" $1/" 'index($3, s) { print $2; exit }'
}

t0=$(date +%s)
if [ -n "$suite" ]; then
	base=${suite%-backports}
	candidates=("$suite")
else
	base=trixie
	candidates=(trixie-backports sid)
fi
suites=("$base")
chosen=
for c in "${candidates[@]}"; do
	[ "$c" = "$base" ] || suites+=("$c")
	update
	v=$(version_in "$c" "$pkg")
	if [ -n "$v" ] && dpkg --compare-versions "$v" ge "$min_version"; then
		chosen=$c
		kver=$v
		break
	fi
	echo "$me: $c has ${v:-no} $pkg, CCA realm guests need $min_version or later" >&2
done
[ -n "$chosen" ] || die "no $pkg $min_version or later in ${candidates[*]} at $mirror"
bbver=$(version_in "$base" busybox-static)
[ -n "$bbver" ] || die "no busybox-static in $base at $mirror"

# The kernel's packages: the meta-package and, transitively, every dependency pinned to an
# exact version (= V): the image, modules and base packages of one build. Alternatives
# without a pin (dracut | initramfs-tools, kmod) are installation tools, not needed here.
debs=()
queue=("$pkg=$kver")
while [ ${#queue[@]} -gt 0 ]; do
	p=${queue[0]}
	queue=("${queue[@]:1}")
	case " ${debs[*]-} " in *" $p "*) continue ;; esac
	debs+=("$p")
	dep=$(apt-cache show --no-all-versions "$p" | sed -n 's/^Depends: //p' | head -1)
	IFS=',' read -ra clauses <<<"$dep"
	for cl in "${clauses[@]}"; do
		IFS='|' read -ra alts <<<"$cl"
		for a in "${alts[@]}"; do
			if [[ $a =~ ^[[:space:]]*([^[:space:]]+)[[:space:]]*\(=[[:space:]]*([^\)[:space:]]+)\) ]]; then
				queue+=("${BASH_REMATCH[1]}=${BASH_REMATCH[2]}")
				break
			fi
		done
	done
done
debs+=("busybox-static=$bbver")

mkdir -p "$work/debs" "$work/root"
log=$work/download.log
if ! (cd "$work/debs" && apt-get download "${debs[@]}") >"$log" 2>&1; then
	apt_failed "$log" "apt-get download" || die "apt-get download failed: $(tail -1 "$log")"
fi
deb_lines=()
for d in "${debs[@]}"; do
	name=${d%%=*}
	ver=${d#*=}
	want=$(apt-cache show --no-all-versions "$d" | sed -n 's/^SHA256: //p' | head -1)
	f=$(ls "$work/debs/${name}_"*.deb 2>/dev/null | head -1) || true
	[ -n "$f" ] || die "apt-get download did not leave ${name}_*.deb"
	got=$(sha256sum "$f" | cut -d' ' -f1)
	[ -n "$want" ] && [ "$got" = "$want" ] || die "$(basename "$f"): sha256 $got, the registry says ${want:-nothing}"
	dpkg-deb -x "$f" "$work/root"
	deb_lines+=("DEB.$name=$ver sha256:$got $(stat -c %s "$f")")
done
t1=$(date +%s)

# --- the kernel --------------------------------------------------------------
vmlinuz=
for f in "$work"/root/usr/lib/modules/*/vmlinuz "$work"/root/lib/modules/*/vmlinuz "$work"/root/boot/vmlinuz-*; do
	[ -f "$f" ] && { vmlinuz=$f; break; }
done
[ -n "$vmlinuz" ] || die "no vmlinuz in ${debs[*]}"
case $vmlinuz in
*/boot/vmlinuz-*) release=${vmlinuz##*/vmlinuz-} ;;
*) release=$(basename "$(dirname "$vmlinuz")") ;;
esac
moddir=
for d in "$work/root/usr/lib/modules/$release" "$work/root/lib/modules/$release"; do
	[ -f "$d/modules.order" ] && { moddir=$d; break; }
done
[ -n "$moddir" ] || die "no modules for $release in ${debs[*]}"
config=
for f in "$moddir/config" "$work/root/boot/config-$release"; do
	[ -f "$f" ] && { config=$f; break; }
done
[ -n "$config" ] || die "no kernel config for $release in ${debs[*]}"
cfg() { sed -n "s/^CONFIG_$1=//p" "$config"; }
cca=$(cfg ARM_CCA_GUEST)
[ "$cca" = m ] || [ "$cca" = y ] || die "$release has no Arm CCA realm guest support (CONFIG_ARM_CCA_GUEST unset)"
[ "$(cfg BLK_DEV_INITRD)" = y ] && [ "$(cfg RD_GZIP)" = y ] || die "$release cannot unpack a gzip initramfs"
[ "$(cfg DEVTMPFS)" = y ] || die "$release has no devtmpfs"

kinfo=$(python3 "$here/linux-guest-tool.py" kernel-info "$vmlinuz") || die "$vmlinuz is no arm64 kernel"
kfmt=$(sed -n 's/^KERNEL_FORMAT=//p' <<<"$kinfo")
image=vmlinuz
if [ "$kfmt" != raw ]; then
	python3 "$here/linux-guest-tool.py" extract-image "$vmlinuz" "$work/Image"
	image=Image
fi

# --- the initramfs -----------------------------------------------------------
ird=$work/initramfs
mkdir -p "$ird"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,etc} "$ird/lib/modules/$release"
bb=
for f in "$work/root/usr/bin/busybox" "$work/root/bin/busybox"; do
	[ -f "$f" ] && { bb=$f; break; }
done
[ -n "$bb" ] || die "no busybox in busybox-static=$bbver"
install -m 0755 "$bb" "$ird/bin/busybox"
ln -s busybox "$ird/bin/sh"
install -m 0755 "$here/linux-guest-init.sh" "$ird/init"
mods=()
if [ "$cca" = m ]; then mods+=(arm-cca-guest); fi # it pulls in the TSM report module and configfs
: >"$ird/etc/rk-modules"
modlist=$work/modules.txt
: >"$modlist"
if [ ${#mods[@]} -gt 0 ]; then
	python3 "$here/linux-guest-tool.py" modules "$moddir" "$ird/lib/modules/$release" "${mods[@]}" >"$modlist"
	cut -d' ' -f1 "$modlist" >"$ird/etc/rk-modules"
fi
python3 "$here/linux-guest-tool.py" mkinitramfs "$work/initrd.img" "$ird"
t2=$(date +%s)

# --- into the cache: the manifest goes last, so an interrupted run never looks complete ---
rm -f "$manifest"
install -m 0644 "$vmlinuz" "$out/vmlinuz"
if [ "$image" = Image ]; then install -m 0644 "$work/Image" "$out/Image"; else rm -f "$out/Image"; fi
install -m 0644 "$work/initrd.img" "$out/initrd.img"
install -m 0644 "$config" "$out/config"
sum() { sha256sum "$out/$1" | cut -d' ' -f1; }
{
	echo "# realmkit Linux guest kit, written by scripts/linux-guest.sh; KEY=VALUE, files relative to this folder"
	echo "KIT_FORMAT=1"
	echo "KIT_SOURCES_SHA256=$(kit_sources)"
	echo "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "MIRROR=$mirror"
	echo "SUITE=$chosen"
	echo "BASE_SUITE=$base"
	echo "KERNEL_PACKAGE=$pkg $kver"
	echo "KERNEL_RELEASE=$release"
	echo "BUSYBOX_PACKAGE=busybox-static $bbver"
	printf '%s\n' "${deb_lines[@]}"
	echo "KERNEL=vmlinuz"
	echo "KERNEL_SHA256=$(sum vmlinuz)"
	echo "KERNEL_BYTES=$(stat -c %s "$out/vmlinuz")"
	sed 's/^IMAGE_SIZE=/IMAGE_HEADER_SIZE=/' <<<"$kinfo"
	echo "IMAGE=$image"
	echo "IMAGE_SHA256=$(sum "$image")"
	echo "IMAGE_BYTES=$(stat -c %s "$out/$image")"
	echo "INITRD=initrd.img"
	echo "INITRD_FORMAT=newc+gzip"
	echo "INITRD_SHA256=$(sum initrd.img)"
	echo "INITRD_BYTES=$(stat -c %s "$out/initrd.img")"
	echo "CONFIG=config"
	echo "MODULES=$(cut -d' ' -f1 "$modlist" | tr '\n' ' ' | sed 's/ $//')"
	echo "MODULE_COMPRESSION=$(cut -d' ' -f2 "$modlist" | sort -u | tr '\n' ' ' | sed 's/ $//')"
	echo "INIT_PROTOCOL=1"
	echo "FETCH_SECONDS=$((t1 - t0))"
	echo "BUILD_SECONDS=$((t2 - t1))"
} >"$out/manifest.tmp"
mv "$out/manifest.tmp" "$manifest"
print_paths
