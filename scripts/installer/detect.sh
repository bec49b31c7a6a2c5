# detect.sh: what install.sh finds out about the host before it installs.
#
# This file holds functions only; it is concatenated into install.sh, whose
# main calls detect_all (or detect_only_main for --detect-only). The Go
# package detector implements the same rules, and its tests run both on the
# same trees and require equal answers: change one, change the other.
#
# It runs under dash, BusyBox ash and bash, with or without set -eu (and
# pipefail), and uses only POSIX sh plus readlink, stat, od and dd, which
# coreutils and BusyBox both have. It expects IFS at its default and
# globbing on (no set -f). Every variable it sets starts with detect_ or _detect_, so it
# cannot clobber install.sh's own.
#
# detect_all [ROOT] sets:
#   detect_arch            amd64 arm64 armv7 386 ppc64le s390x riscv64 | unknown
#   detect_libc            glibc musl | unknown
#   detect_distro_id       os-release ID | unknown
#   detect_distro_like     os-release ID_LIKE, words joined by one space
#   detect_distro_version  os-release VERSION_ID, may be empty
#   detect_package_manager apt dpkg dnf yum tdnf zypper rpm apk pacman none
#   detect_package_format  deb rpm apk archlinux tarball none
#   detect_init            systemd openrc upstart runit sysvinit none | unknown
#   detect_container       none docker podman lxc ... (systemd-detect-virt names)
#   detect_privilege       root sudo doas none | unknown
#
# ROOT other than / is a file system tree (an image, a chroot seen from
# outside). Then nothing is taken from the running system: the arch comes
# from the tree's package tool files or the ELF header of its /bin/sh, the
# container from the tree's marker files, and init and privilege, which a
# tree cannot show, are unknown. Symlinks in the tree are followed as if it
# were /, so an absolute link never leads to the host's file.
#
# Values that reach the output are checked against a small character set, so
# every printed line is a plain key=value with nothing to quote.

# detect_resolve PATH: sets detect_path to where the absolute PATH of the
# tree is on this machine, following symlinks inside the tree. Returns 1 on
# a symlink loop. A missing path is not an error: the caller tests the file.
detect_resolve() {
	_detect_r_todo=$1
	_detect_r_done=
	_detect_r_links=0
	while :; do
		_detect_r_todo=${_detect_r_todo#"${_detect_r_todo%%[!/]*}"}
		[ -n "$_detect_r_todo" ] || break
		case $_detect_r_todo in
		*/*)
			_detect_r_c=${_detect_r_todo%%/*}
			_detect_r_todo=${_detect_r_todo#*/}
			;;
		*)
			_detect_r_c=$_detect_r_todo
			_detect_r_todo=
			;;
		esac
		case $_detect_r_c in
		.) continue ;;
		..)
			_detect_r_done=${_detect_r_done%/*}
			continue
			;;
		esac
		if [ -L "$detect_prefix$_detect_r_done/$_detect_r_c" ]; then
			_detect_r_links=$((_detect_r_links + 1))
			[ "$_detect_r_links" -le 40 ] || return 1
			_detect_r_t=$(readlink "$detect_prefix$_detect_r_done/$_detect_r_c") || return 1
			case $_detect_r_t in /*) _detect_r_done= ;; esac
			_detect_r_todo=$_detect_r_t/$_detect_r_todo
		else
			_detect_r_done=$_detect_r_done/$_detect_r_c
		fi
	done
	detect_path=$detect_prefix$_detect_r_done
	[ -n "$detect_path" ] || detect_path=/
}

# detect_present PATH: true when PATH exists in the tree, even as a dangling
# symlink (a marker file only has to be there).
detect_present() {
	detect_resolve "$1" || return 1
	[ -e "$detect_path" ] || [ -L "$detect_path" ]
}

# detect_first_line PATH: sets detect_line to the first line of the file at
# PATH in the tree, without surrounding blanks; false when there is no file.
detect_first_line() {
	detect_line=
	detect_resolve "$1" || return 1
	[ -f "$detect_path" ] || return 1
	IFS= read -r detect_line 2>/dev/null <"$detect_path" || :
	detect_trim "$detect_line"
	detect_line=$detect_trimmed
}

# detect_trim TEXT: sets detect_trimmed to TEXT without leading and trailing
# spaces and tabs.
detect_trim() {
	detect_trimmed=${1#"${1%%[!	 ]*}"}
	detect_trimmed=${detect_trimmed%"${detect_trimmed##*[!	 ]}"}
}

# detect_valid WORD: true when WORD is a non-empty os-release identifier:
# lower-case letters, digits, "." "_" and "-" (os-release(5)). Letters are
# spelled out because a range like a-z depends on the locale.
detect_valid() {
	case $1 in
	'' | *[!abcdefghijklmnopqrstuvwxyz0123456789._-]*) return 1 ;;
	esac
}

# detect_unquote RAW: sets detect_word to the value of the os-release
# assignment right-hand side RAW, read as one shell word without running or
# expanding anything: '...' is literal, "..." takes \ before " \ $ and `
# only, \ outside quotes takes the next character. Blanks end the word; only
# a comment may follow. Returns 1 for what sh would not read as one word
# (unterminated quote, a second word), which the caller rejects.
detect_unquote() {
	_detect_u_in=$1
	detect_word=
	while [ -n "$_detect_u_in" ]; do
		case $_detect_u_in in
		\'*)
			_detect_u_in=${_detect_u_in#?}
			case $_detect_u_in in *\'*) ;; *) return 1 ;; esac
			detect_word=$detect_word${_detect_u_in%%\'*}
			_detect_u_in=${_detect_u_in#*\'}
			;;
		\"*)
			_detect_u_in=${_detect_u_in#?}
			while :; do
				_detect_u_seg=${_detect_u_in%%[\"\\]*}
				detect_word=$detect_word$_detect_u_seg
				_detect_u_in=${_detect_u_in#"$_detect_u_seg"}
				case $_detect_u_in in
				'') return 1 ;;
				\"*)
					_detect_u_in=${_detect_u_in#?}
					break
					;;
				esac
				_detect_u_in=${_detect_u_in#?}
				case $_detect_u_in in
				'') return 1 ;;
				[\"\\\$\`]*)
					detect_word=$detect_word${_detect_u_in%"${_detect_u_in#?}"}
					_detect_u_in=${_detect_u_in#?}
					;;
				*) detect_word=$detect_word\\ ;;
				esac
			done
			;;
		\\*)
			_detect_u_in=${_detect_u_in#?}
			[ -n "$_detect_u_in" ] || return 1
			detect_word=$detect_word${_detect_u_in%"${_detect_u_in#?}"}
			_detect_u_in=${_detect_u_in#?}
			;;
		[\ \	]*)
			_detect_u_in=${_detect_u_in#"${_detect_u_in%%[!	 ]*}"}
			case $_detect_u_in in
			'' | \#*) return 0 ;;
			*) return 1 ;;
			esac
			;;
		*)
			_detect_u_seg=${_detect_u_in%%[\"\'\\\ \	]*}
			detect_word=$detect_word$_detect_u_seg
			_detect_u_in=${_detect_u_in#"$_detect_u_seg"}
			;;
		esac
	done
}

# detect_os_release: sets detect_distro_id, detect_distro_like and
# detect_distro_version from the tree's /etc/os-release, or
# /usr/lib/os-release when that is missing. The file is untrusted: it is
# parsed, never sourced. As in sh, the last assignment of a key wins. A value
# sh would not read as one word, longer than 1024 bytes, or outside the
# os-release character set is rejected: ID becomes unknown, ID_LIKE and
# VERSION_ID empty. Only the first 64 KiB are read.
detect_os_release() {
	detect_distro_id=unknown
	detect_distro_like=
	detect_distro_version=
	_detect_o_file=
	for _detect_o_p in /etc/os-release /usr/lib/os-release; do
		if detect_resolve "$_detect_o_p" && [ -f "$detect_path" ]; then
			_detect_o_file=$detect_path
			break
		fi
	done
	[ -n "$_detect_o_file" ] || return 0
	# The braces also silence bash's warning about NUL bytes, which every
	# shell drops from the text.
	{ _detect_o_text=$(dd if="$_detect_o_file" bs=65536 count=1 2>/dev/null); } 2>/dev/null || :
	_detect_o_id=''
	_detect_o_like=''
	_detect_o_ver=''
	# In a UTF-8 locale bash and BusyBox count ${#var} in characters, but
	# the 1024 limit is in bytes, as detector counts it: parse in the C
	# locale, then put LC_ALL back as it was.
	_detect_o_lc_set=${LC_ALL+set}
	_detect_o_lc=${LC_ALL-}
	LC_ALL=C
	while IFS= read -r _detect_o_line; do
		_detect_o_line=${_detect_o_line#"${_detect_o_line%%[!	 ]*}"}
		case $_detect_o_line in
		ID=* | ID_LIKE=* | VERSION_ID=*) ;;
		*) continue ;;
		esac
		_detect_o_raw=${_detect_o_line#*=}
		if [ "${#_detect_o_raw}" -gt 1024 ] || ! detect_unquote "$_detect_o_raw"; then
			# "!" is outside the character set: the key is rejected.
			detect_word='!'
		fi
		case $_detect_o_line in
		ID=*) _detect_o_id=$detect_word ;;
		ID_LIKE=*) _detect_o_like=$detect_word ;;
		VERSION_ID=*) _detect_o_ver=$detect_word ;;
		esac
	done <<EOF
$_detect_o_text
EOF
	if [ "$_detect_o_lc_set" = set ]; then LC_ALL=$_detect_o_lc; else unset LC_ALL; fi
	if detect_valid "$_detect_o_id"; then
		detect_distro_id=$_detect_o_id
	fi
	if detect_valid "$_detect_o_ver"; then
		detect_distro_version=$_detect_o_ver
	fi
	# ID_LIKE is a list separated by blanks; one bad word rejects all.
	_detect_o_rest=$_detect_o_like
	_detect_o_out=
	while :; do
		_detect_o_rest=${_detect_o_rest#"${_detect_o_rest%%[!	 ]*}"}
		[ -n "$_detect_o_rest" ] || break
		_detect_o_w=${_detect_o_rest%%[	 ]*}
		_detect_o_rest=${_detect_o_rest#"$_detect_o_w"}
		if ! detect_valid "$_detect_o_w"; then
			_detect_o_out=
			break
		fi
		_detect_o_out=$_detect_o_out${_detect_o_out:+ }$_detect_o_w
	done
	detect_distro_like=$_detect_o_out
}

# detect_has TOOL: true when the tree has an executable TOOL in one of the
# directories package tools live in. PATH is not used: the tree decides, and
# a tree is not searched through the host's PATH.
detect_has() {
	for _detect_h_dir in /usr/bin /bin /usr/sbin /sbin; do
		if detect_resolve "$_detect_h_dir/$1" && [ -f "$detect_path" ] && [ -x "$detect_path" ]; then
			return 0
		fi
	done
	return 1
}

# detect_family: sets _detect_family to the package family of the first of
# ID, then each ID_LIKE word, that is known. nix means no package can be
# installed; tarball means the distro's own package manager has no package
# of ours, so the release tarball is used.
detect_family() {
	_detect_family=
	for _detect_f_w in $detect_distro_id $detect_distro_like; do
		case $_detect_f_w in
		debian | ubuntu | devuan | raspbian | linuxmint | kali | pop | elementary | zorin | neon | pureos)
			_detect_family=deb ;;
		rhel | fedora | centos | rocky | almalinux | ol | amzn | scientific | cloudlinux | photon | mariner | azurelinux)
			_detect_family=redhat ;;
		suse | opensuse | opensuse-leap | opensuse-tumbleweed | sles | sled)
			_detect_family=suse ;;
		alpine | postmarketos)
			_detect_family=alpine ;;
		arch | archarm | manjaro | artix | endeavouros | garuda)
			_detect_family=arch ;;
		void | gentoo)
			_detect_family=tarball ;;
		nixos)
			_detect_family=nix ;;
		*) continue ;;
		esac
		return 0
	done
}

# detect_major: sets _detect_major to the leading number of VERSION_ID, or
# empty when it does not start with a digit or is too long for test(1).
detect_major() {
	_detect_major=${detect_distro_version%%[!0123456789]*}
	case $_detect_major in
	??????????*) _detect_major= ;;
	esac
}

# detect_redhat_default: sets _detect_pm to the tool a Red Hat family
# distribution has when the tree shows no package tool: yum before EL8,
# Amazon Linux 2 and Fedora 21, tdnf on Photon and Azure Linux, else dnf.
detect_redhat_default() {
	detect_major
	_detect_pm=dnf
	case " $detect_distro_id $detect_distro_like " in
	*" photon "* | *" mariner "* | *" azurelinux "*)
		_detect_pm=tdnf
		return 0
		;;
	esac
	[ -n "$_detect_major" ] || return 0
	case $detect_distro_id in
	amzn)
		[ "$_detect_major" -ge 2022 ] || _detect_pm=yum
		return 0
		;;
	fedora)
		[ "$_detect_major" -ge 22 ] || _detect_pm=yum
		return 0
		;;
	esac
	case " $detect_distro_id $detect_distro_like " in
	*" rhel "* | *" centos "* | *" rocky "* | *" almalinux "* | *" ol "* | *" scientific "* | *" cloudlinux "*)
		[ "$_detect_major" -ge 8 ] || _detect_pm=yum
		;;
	esac
}

# detect_package: sets detect_package_manager and detect_package_format from
# the os-release family and the package tools in the tree. The family's own
# tools come first; a tree with no package tool at all (an os-release alone)
# gets the family's usual tool; an unknown family takes whichever tool is
# there, high-level tools before dpkg and rpm.
detect_package() {
	detect_tools=
	for _detect_p_t in apt-get dnf tdnf yum zypper apk pacman dpkg rpm; do
		if detect_has "$_detect_p_t"; then
			detect_tools="$detect_tools $_detect_p_t"
		fi
	done
	detect_tools="$detect_tools "
	detect_family
	_detect_pm=
	case $_detect_family in
	nix)
		detect_package_manager=none
		detect_package_format=none
		return 0
		;;
	tarball)
		detect_package_manager=none
		detect_package_format=tarball
		return 0
		;;
	deb) _detect_p_prefer="apt-get dpkg" ;;
	redhat) _detect_p_prefer="dnf tdnf yum rpm" ;;
	suse) _detect_p_prefer="zypper rpm" ;;
	alpine) _detect_p_prefer=apk ;;
	arch) _detect_p_prefer=pacman ;;
	*) _detect_p_prefer= ;;
	esac
	if [ "$detect_tools" = " " ]; then
		case $_detect_family in
		deb) _detect_pm=apt ;;
		redhat) detect_redhat_default ;;
		suse) _detect_pm=zypper ;;
		alpine) _detect_pm=apk ;;
		arch) _detect_pm=pacman ;;
		esac
	else
		for _detect_p_t in $_detect_p_prefer apt-get dnf tdnf yum zypper apk pacman dpkg rpm; do
			case $detect_tools in
			*" $_detect_p_t "*)
				_detect_pm=$_detect_p_t
				break
				;;
			esac
		done
		[ "$_detect_pm" != apt-get ] || _detect_pm=apt
	fi
	case $_detect_pm in
	apt | dpkg) detect_package_format=deb ;;
	dnf | tdnf | yum | zypper | rpm) detect_package_format=rpm ;;
	apk) detect_package_format=apk ;;
	pacman) detect_package_format=archlinux ;;
	*)
		_detect_pm=none
		detect_package_format=tarball
		;;
	esac
	detect_package_manager=$_detect_pm
}

# detect_map_arch NAME [apk]: sets detect_mapped to omnipack's name for the
# architecture NAME as uname -m, dpkg, rpm, apk or pacman spell it, or to
# unknown. apk's armhf is ARMv6, Debian's is ARMv7.
detect_map_arch() {
	case $1 in
	x86_64 | amd64) detect_mapped=amd64 ;;
	aarch64 | arm64) detect_mapped=arm64 ;;
	armhf)
		if [ "${2-}" = apk ]; then
			detect_mapped=unknown
		else
			detect_mapped=armv7
		fi
		;;
	armv7 | armv7l | armv7hl | armv8l) detect_mapped=armv7 ;;
	i386 | i486 | i586 | i686 | x86) detect_mapped=386 ;;
	ppc64le | ppc64el) detect_mapped=ppc64le ;;
	s390x) detect_mapped=s390x ;;
	riscv64) detect_mapped=riscv64 ;;
	*) detect_mapped=unknown ;;
	esac
}

# detect_elf_arch FILE: sets detect_mapped from the ELF header of FILE: its
# class, byte order and e_machine. 32-bit ARM is taken as armv7.
detect_elf_arch() {
	detect_mapped=unknown
	# The od output is split into its bytes on purpose.
	# shellcheck disable=SC2046
	set -- $(od -An -v -tx1 -N20 "$1" 2>/dev/null)
	[ "$#" -eq 20 ] && [ "$1$2$3$4" = 7f454c46 ] || return 0
	case $6 in
	01) _detect_e_m=${20}${19} ;;
	02) _detect_e_m=${19}${20} ;;
	*) return 0 ;;
	esac
	case $5$6$_detect_e_m in
	0201003e) detect_mapped=amd64 ;;
	020100b7) detect_mapped=arm64 ;;
	01010028) detect_mapped=armv7 ;;
	01010003) detect_mapped=386 ;;
	02010015) detect_mapped=ppc64le ;;
	02020016) detect_mapped=s390x ;;
	020100f3) detect_mapped=riscv64 ;;
	esac
}

# detect_arch_facts: sets detect_arch. On the host the package tool is asked
# first, as packages must match its architecture (an i386 userland on an
# amd64 kernel), then uname -m. In a tree: /etc/apk/arch, then the native
# (first) line of /var/lib/dpkg/arch, then the ELF header of /bin/sh; the
# tree's tools are never run. A tool or file that answers is final.
detect_arch_facts() {
	detect_arch=unknown
	if [ "$detect_host" = yes ]; then
		_detect_a_v=
		case $detect_package_manager in
		apt | dpkg) _detect_a_v=$(dpkg --print-architecture 2>/dev/null | head -n 1) || : ;;
		dnf | tdnf | yum | zypper | rpm) _detect_a_v=$(rpm --eval '%_arch' 2>/dev/null | head -n 1) || : ;;
		apk) _detect_a_v=$(apk --print-arch 2>/dev/null | head -n 1) || : ;;
		pacman) _detect_a_v=$(pacman-conf Architecture 2>/dev/null | head -n 1) || : ;;
		esac
		detect_trim "$_detect_a_v"
		if [ -z "$detect_trimmed" ]; then
			detect_trim "$(uname -m 2>/dev/null)"
		fi
		detect_map_arch "$detect_trimmed" "$detect_package_manager"
		detect_arch=$detect_mapped
		return 0
	fi
	if detect_first_line /etc/apk/arch && [ -n "$detect_line" ]; then
		detect_map_arch "$detect_line" apk
	elif detect_first_line /var/lib/dpkg/arch && [ -n "$detect_line" ]; then
		detect_map_arch "$detect_line"
	elif detect_resolve /bin/sh && [ -f "$detect_path" ]; then
		detect_elf_arch "$detect_path"
	else
		detect_mapped=unknown
	fi
	detect_arch=$detect_mapped
}

# detect_libc_facts: sets detect_libc from the program interpreter named in
# the first 4 KiB of /bin/sh, else from the dynamic loaders in the library
# directories, else (host only) from ldd --version.
detect_libc_facts() {
	detect_libc=unknown
	if detect_resolve /bin/sh && [ -f "$detect_path" ]; then
		if dd if="$detect_path" bs=4096 count=1 2>/dev/null | tr -d '\000' | LC_ALL=C grep -qF ld-musl-; then
			detect_libc=musl
			return 0
		fi
		if dd if="$detect_path" bs=4096 count=1 2>/dev/null | tr -d '\000' | LC_ALL=C grep -qF -e ld-linux -e ld64.so.; then
			detect_libc=glibc
			return 0
		fi
	fi
	for _detect_l_d in /lib /lib64 /usr/lib /usr/lib64; do
		detect_resolve "$_detect_l_d" || continue
		for _detect_l_f in "$detect_path"/ld-musl-*.so.1; do
			if [ -e "$_detect_l_f" ] || [ -L "$_detect_l_f" ]; then
				detect_libc=musl
				return 0
			fi
		done
	done
	for _detect_l_d in /lib /lib64 /usr/lib /usr/lib64; do
		detect_resolve "$_detect_l_d" || continue
		for _detect_l_f in "$detect_path"/ld-linux*.so.* "$detect_path"/ld64.so.*; do
			if [ -e "$_detect_l_f" ] || [ -L "$_detect_l_f" ]; then
				detect_libc=glibc
				return 0
			fi
		done
	done
	[ "$detect_host" = yes ] || return 0
	_detect_l_v=$(ldd --version 2>&1) || :
	case $_detect_l_v in
	*[Mm][Uu][Ss][Ll]*) detect_libc=musl ;;
	*[Gg][Ll][Ii][Bb][Cc]* | *[Gg][Nn][Uu]\ [Ll][Ii][Bb][Cc]*) detect_libc=glibc ;;
	esac
}

# detect_in_chroot: true when / is not PID 1's root, as in the maintainer
# scripts' in_chroot. Without /proc this cannot be told and is taken as false.
detect_in_chroot() {
	_detect_c_root=$(stat -c %d:%i / 2>/dev/null) || return 1
	_detect_c_pid1=$(stat -c %d:%i /proc/1/root/. 2>/dev/null) || return 1
	[ "$_detect_c_root" != "$_detect_c_pid1" ]
}

# detect_init_facts: sets detect_init to the init system running as PID 1.
# The conditions are the Shell.Running fragments of init/*.go, verbatim and
# in initsys.All order (a test holds them equal); "none" in a chroot or a
# container without init, "unknown" for a tree.
detect_init_facts() {
	if [ "$detect_host" != yes ]; then
		detect_init=unknown
		return 0
	fi
	detect_init=none
	if detect_in_chroot; then
		return 0
	fi
	if [ -d /run/systemd/system ]; then
		detect_init=systemd
	elif [ -e /run/openrc/softlevel ]; then
		detect_init=openrc
	elif initctl version 2>/dev/null | grep -q upstart; then
		detect_init=upstart
	elif { [ "$(cat /proc/1/comm 2>/dev/null)" = runit ] || grep -qsx runsvdir /proc/[0-9]*/comm; }; then
		detect_init=runit
	elif { [ "$(cat /proc/1/comm 2>/dev/null)" = init ] && [ -p /run/initctl ]; }; then
		detect_init=sysvinit
	fi
}

# detect_container_name NAME: sets detect_container to NAME when it is a
# plain identifier, else to container-other.
detect_container_name() {
	if detect_valid "$1"; then
		detect_container=$1
	else
		detect_container=container-other
	fi
}

# detect_container_facts: sets detect_container. The marker files count in a
# tree too; PID 1's environment, systemd-detect-virt (final when present)
# and PID 1's cgroup are the running system's and are asked only on the host.
detect_container_facts() {
	detect_container=none
	if detect_present /.dockerenv; then
		detect_container=docker
		return 0
	fi
	if detect_present /run/.containerenv; then
		detect_container=podman
		return 0
	fi
	[ "$detect_host" = yes ] || return 0
	_detect_k_v=$({ tr '\000' '\n' | sed -n 's/^container=//p' | head -n 1; } 2>/dev/null </proc/1/environ) || :
	if [ -n "$_detect_k_v" ]; then
		detect_container_name "$_detect_k_v"
		return 0
	fi
	if command -v systemd-detect-virt >/dev/null 2>&1; then
		detect_trim "$(systemd-detect-virt -c 2>/dev/null | head -n 1)"
		if [ -n "$detect_trimmed" ]; then
			detect_container_name "$detect_trimmed"
			return 0
		fi
	fi
	if grep -qF -e /docker/ -e /docker- /proc/1/cgroup 2>/dev/null; then
		detect_container=docker
	elif grep -qF -e /libpod- -e /libpod_ /proc/1/cgroup 2>/dev/null; then
		detect_container=podman
	elif grep -qF -e /lxc/ -e /lxc.payload /proc/1/cgroup 2>/dev/null; then
		detect_container=lxc
	elif grep -qF /kubepods /proc/1/cgroup 2>/dev/null; then
		detect_container=container-other
	fi
}

# detect_privilege_facts: sets detect_privilege: root, or the first of sudo
# and doas in PATH to become root with, or none; unknown for a tree.
detect_privilege_facts() {
	if [ "$detect_host" != yes ]; then
		detect_privilege=unknown
	elif [ "$(id -u 2>/dev/null)" = 0 ]; then
		detect_privilege=root
	elif command -v sudo >/dev/null 2>&1; then
		detect_privilege=sudo
	elif command -v doas >/dev/null 2>&1; then
		detect_privilege=doas
	else
		detect_privilege=none
	fi
}

# detect_all [ROOT]: sets every detect_ fact for the tree at ROOT (default /,
# this host). Returns 1 with a message when ROOT is not a directory.
detect_all() {
	detect_root=$(CDPATH='' cd -- "${1:-/}" 2>/dev/null && pwd -P) || {
		printf 'detect: %s: not a directory\n' "${1:-/}" >&2
		return 1
	}
	detect_prefix=${detect_root%/}
	detect_host=no
	[ "$detect_root" != / ] || detect_host=yes
	detect_os_release
	detect_package
	detect_arch_facts
	detect_libc_facts
	detect_init_facts
	detect_container_facts
	detect_privilege_facts
}

# detect_print: prints the facts detect_all set, one key=value a line, the
# package line first. The Go package detector prints the same (Facts.Text).
detect_print() {
	printf 'package_format=%s package_manager=%s\n' "$detect_package_format" "$detect_package_manager"
	printf 'arch=%s\n' "$detect_arch"
	printf 'libc=%s\n' "$detect_libc"
	printf 'distro_id=%s\n' "$detect_distro_id"
	printf 'distro_like=%s\n' "$detect_distro_like"
	printf 'distro_version=%s\n' "$detect_distro_version"
	printf 'init=%s\n' "$detect_init"
	printf 'container=%s\n' "$detect_container"
	printf 'privilege=%s\n' "$detect_privilege"
}

# detect_only_main [--detect-only] [--root DIR]: the --detect-only mode of
# install.sh: detect, print, change nothing. Returns 2 on bad arguments.
detect_only_main() {
	_detect_m_root=/
	while [ "$#" -gt 0 ]; do
		case $1 in
		--detect-only) ;;
		--root)
			if [ "$#" -lt 2 ]; then
				echo "detect: --root needs a directory" >&2
				return 2
			fi
			_detect_m_root=$2
			shift
			;;
		--root=*) _detect_m_root=${1#--root=} ;;
		*)
			printf 'detect: unknown argument: %s\n' "$1" >&2
			return 2
			;;
		esac
		shift
	done
	detect_all "$_detect_m_root" || return 2
	detect_print
}
