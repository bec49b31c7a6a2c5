# install-main.sh: install.sh's own functions. omnipack concatenates the
# rendered header (the release's constants and init commands), detect.sh,
# this file and the last line, `{ main "$@"; }`.
#
# POSIX sh for dash, BusyBox ash and bash, run under set -u; no set -e: each
# step checks its own result and dies with a message. Functions only: nothing
# here runs until main is called on the last line.
#
# Every change to the host happens after every check: the manifest's
# signature, expiry and version, the package's size and sha256, and (for the
# tarball) its contents are all checked first, with the files in a private
# temporary directory.
#
# Globals: opt_* are the options, m_* the verified manifest, a_* the chosen
# artifact, rec_* the record of the installed release, detect_* the host.

# How long an installer waits for another one on the same host.
lock_wait=600

# The manifest may be this large; signatures are a few hundred bytes.
manifest_max=4194304
sig_max=65536

# say MSG: progress, on stdout.
say() {
	printf '%s: %s\n' "$pkg_name" "$*"
}

# warn MSG: on stderr.
warn() {
	printf '%s: warning: %s\n' "$pkg_name" "$*" >&2
}

# die MSG: stops with MSG on stderr and exit status 1; the exit trap removes
# the temporary directory.
die() {
	printf '%s: error: %s\n' "$pkg_name" "$*" >&2
	exit 1
}

# usage_error MSG: a bad command line; exit status 2.
usage_error() {
	printf '%s: %s\n' "$pkg_name" "$*" >&2
	printf '%s: run with --help for the options\n' "$pkg_name" >&2
	exit 2
}

# have TOOL: true when TOOL is in PATH.
have() {
	command -v "$1" >/dev/null 2>&1
}

# printable TEXT: prints TEXT with anything but printable ASCII as ?, and at
# most 120 characters, for messages about untrusted input.
printable() {
	printf '%s' "$1" | LC_ALL=C tr -c ' -~' '?' | LC_ALL=C cut -c 1-120
}

# is_word TEXT: true for a non-empty word of letters, digits and . _ + ~ -
# (letters spelled out: a range depends on the locale).
is_word() {
	case $1 in
	'' | *[!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+~-]*) return 1 ;;
	esac
}

# is_channel TEXT: a repository channel as omnipack publish allows it
# (packaging.CheckChannel): a-z 0-9 . + -, starting with a letter or
# digit, at most 64.
is_channel() {
	case $1 in
	'' | [.+-]* | *[!abcdefghijklmnopqrstuvwxyz0123456789.+-]*) return 1 ;;
	esac
	[ "${#1}" -le 64 ]
}

# is_digits TEXT: true for 1 to 18 decimal digits (fits test(1) everywhere).
is_digits() {
	case $1 in
	'' | *[!0123456789]* | ???????????????????*) return 1 ;;
	esac
}

# is_key TEXT: true for a config key: letters, digits, _ and -.
is_key() {
	case $1 in
	'' | *[!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-]*) return 1 ;;
	esac
}

# is_env_name TEXT: true for an environment variable name: a letter or _,
# then letters, digits and _.
is_env_name() {
	case $1 in
	'' | [!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_]* | *[!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_]*) return 1 ;;
	esac
}

# is_env_path TEXT: true for an environment file's path from the manifest:
# clean, absolute, of plain characters, below /etc/ (as manifest.Parse
# checks it).
is_env_path() {
	case $1 in
	/etc/?*) ;;
	*) return 1 ;;
	esac
	case $1 in
	*[!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:+@~/-]* | *//* | */./* | */../* | */. | */.. | */) return 1 ;;
	esac
}

# is_file_name TEXT: true for a plain file name from the manifest: a word
# that starts with a letter or digit and holds no "..", so it can neither
# leave the directory nor be read as an option.
is_file_name() {
	is_word "$1" || return 1
	case $1 in
	[!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789]* | *..*) return 1 ;;
	esac
}

# is_abs_path TEXT: true for a clean absolute path of plain characters, as
# the release tarball's file list must hold.
is_abs_path() {
	case $1 in
	/*) ;;
	*) return 1 ;;
	esac
	case $1 in
	*[!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+~@/-]* | *//* | */./* | */../* | */. | */.. | */ | /proc/* | /sys/* | /dev/*) return 1 ;;
	esac
}

# quoted ARG...: prints the arguments as one sh command line.
quoted() {
	q_out=
	for q_a in "$@"; do
		case $q_a in
		'' | *[!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=@%+,-]*)
			q_a="'$(printf '%s' "$q_a" | sed "s/'/'\\\\''/g")'"
			;;
		esac
		q_out="$q_out${q_out:+ }$q_a"
	done
	printf '%s\n' "$q_out"
}

# run CMD ARG...: prints the command and runs it with stdin from /dev/null
# (under curl | sh, stdin is the script); with --dry-run only prints it.
run() {
	if [ "$opt_dry_run" = yes ]; then
		printf '  would run: %s\n' "$(quoted "$@")"
		return 0
	fi
	printf '+ %s\n' "$(quoted "$@")"
	# The installer's own files are private (umask 077); what the package
	# manager and the package's scripts create gets the usual modes. Fd 9
	# holds the installer lock: closed, so a daemon the command starts
	# does not hold the lock after the installer is gone.
	(umask 022 && "$@" </dev/null 9>&-)
}

# init_do INIT ACTION: init_run with the usual umask, stdin from /dev/null,
# and the output in $tmp/init.out (a file, not a pipe: a daemon may keep
# it open), and without the lock's fd 9, as run.
init_do() {
	(umask 022 && init_run "$1" "$2" </dev/null >"$tmp/init.out" 2>&1 9>&-)
}

# file_size FILE: prints the size of FILE in bytes.
file_size() {
	wc -c <"$1" | tr -d ' \t'
}

# sha256_of FILE: prints the hex sha256 of FILE, with whichever tool the host
# has: coreutils or BusyBox sha256sum, openssl, or perl's shasum.
sha256_of() {
	if have sha256sum; then
		s_out=$(sha256sum <"$1") || return 1
	elif have openssl; then
		s_out=$(openssl dgst -sha256 -r <"$1") || return 1
	elif have shasum; then
		s_out=$(shasum -a 256 <"$1") || return 1
	else
		die "cannot compute a sha256 here: install coreutils (sha256sum) or openssl"
	fi
	printf '%s\n' "${s_out%% *}"
}

# b64_decode IN OUT: decodes base64 (wrapped or not) from file IN into OUT.
b64_decode() {
	if have base64 && base64 -d <"$1" >"$2" 2>/dev/null; then
		return 0
	fi
	if have openssl && tr -d ' \n\r' <"$1" | openssl base64 -d -A >"$2" 2>/dev/null && [ -s "$2" ]; then
		return 0
	fi
	return 1
}

# write_pgp_keyring FILE: writes the OpenPGP key built into this installer,
# binary, to FILE: gpgv's and apt's keyring.
write_pgp_keyring() {
	printf '%s\n' "$pgp_pub_b64" >"$tmp/pgp.pub.b64" || die "could not write the OpenPGP key"
	b64_decode "$tmp/pgp.pub.b64" "$1" || die "cannot decode the built-in OpenPGP key (no base64 tool?)"
}

# is_secret KEY: true when KEY's value must never be printed.
is_secret() {
	case " $secret_keys " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# group_exists NAME: true when the group exists (getent, or /etc/group on
# BusyBox hosts).
group_exists() {
	if have getent; then
		getent group "$1" >/dev/null 2>&1
	else
		grep -q "^$1:" /etc/group 2>/dev/null
	fi
}

# user_exists NAME: true when the user exists.
user_exists() {
	if have getent; then
		getent passwd "$1" >/dev/null 2>&1
	else
		grep -q "^$1:" /etc/passwd 2>/dev/null
	fi
}

usage() {
	u_pos=
	for u_k in $positional_keys; do
		u_pos="$u_pos [$u_k]"
	done
	cat <<EOF
Usage: sh install.sh [OPTIONS]$u_pos
       curl -fsSL ${default_base_url:-BASE_URL}/install.sh | sudo sh -s --$u_pos [OPTIONS]
       curl -fsSL ${default_base_url:-BASE_URL}/install.sh | sudo sh -s uninstall   (or: purge)

Installs, upgrades or removes $pkg_name (this installer was built with
version $built_version). The release's signed manifest,
release.json, is verified with the key built into this script before
anything else; the package must match its signed size and sha256.

Options:
  --set KEY=VALUE        write KEY = "VALUE" into ${config_path:-the config} (repeatable)
  --set env.NAME=VALUE   write NAME="VALUE" into the environment file the
                         package ships (release.json names it), which the
                         service reads when it starts (repeatable)
  --version VERSION      install VERSION, from BASE_URL/VERSION/ (default: the
                         latest, from BASE_URL/)
  --base-url URL         where the release is published
                         (default: ${default_base_url:-none; give --base-url or --offline})
  --offline DIR          use the release in DIR (a copy of the release directory
                         or an omnipack bundle) instead of the network
  --method package|repo  package (default): install the verified package from
                         the release; repo: add the release's signed package
                         repository to the package manager, trusting the key
                         built into this script for it alone, and install from
                         it, so that later versions arrive with the host's
                         upgrades (apt hosts)
  --repo-url URL         with --method repo: where the repository is served
                         (default: ${default_repo_url:-none; give --repo-url})
  --channel NAME         with --method repo: the repository's channel
                         (default: stable)
  --dry-run              verify the release, print the host, the chosen package
                         and every command, and change nothing
  --no-start             install, but leave the service stopped
  --yes                  do not ask before changing the host (asked only on a
                         terminal)
  --uninstall            remove $pkg_name; its config and record are kept
                         (also: a first argument "uninstall")
  --purge                with --uninstall: also delete the config, the state
                         and the accounts the package created (also: a first
                         argument "purge")
  --allow-downgrade      install a release older than the installed one
  --reinstall            install the package again even when this release is
                         installed
  --insecure-http        allow a plain-http base URL that is not loopback (the
                         signature is still checked)
  --insecure-skip-verify install even where the host cannot check a signature
                         (no openssl, gpgv or apk): NOT RECOMMENDED
  --root DIR             with --dry-run or --detect-only: plan for the file
                         system tree at DIR instead of this host
  --detect-only [--root DIR]
                         print what is detected about this host, or about the
                         file system tree at DIR, and exit
  --help                 this text
EOF
	if [ -n "$positional_keys" ]; then
		printf '\nArguments set, in order: %s.\n' "$positional_keys"
	fi
	if [ -n "$positional_keys$secret_keys" ]; then
		printf 'The environment sets the same keys:'
		for u_k in $(config_env_keys); do
			printf ' %s' "$(env_name "$u_k")"
		done
		printf '.\n--set wins over arguments, arguments over the environment.\n'
	fi
	if [ -n "$secret_keys" ]; then
		printf 'Never printed: %s. Pass secrets in the environment to keep them\nout of the installer'"'"'s own process arguments.\n' "$secret_keys"
	fi
}

# init_options: the defaults of every option.
init_options() {
	opt_dry_run=no
	opt_uninstall=no
	opt_purge=no
	opt_no_start=no
	opt_yes=no
	opt_allow_downgrade=no
	opt_reinstall=no
	opt_root=/
	root_prefix=
	opt_insecure_http=no
	opt_insecure_skip_verify=no
	opt_offline=
	opt_version=
	opt_base_url=
	opt_base_url_given=no
	opt_method=package
	opt_repo_url=
	opt_channel=
	n_positional=0
	opt_word=
	arg_keys=
	pos_keys=
}

# parse_args ARG...: sets the opt_* variables and stores config values under
# $tmp/arg (from --set) and $tmp/pos (from arguments).
parse_args() {
	while [ "$#" -gt 0 ]; do
		case $1 in
		--help | -h)
			usage
			exit 0
			;;
		--dry-run) opt_dry_run=yes ;;
		--uninstall) opt_uninstall=yes ;;
		--purge) opt_purge=yes ;;
		--no-start) opt_no_start=yes ;;
		--yes | -y) opt_yes=yes ;;
		--allow-downgrade) opt_allow_downgrade=yes ;;
		--reinstall) opt_reinstall=yes ;;
		--insecure-http) opt_insecure_http=yes ;;
		--insecure-skip-verify) opt_insecure_skip_verify=yes ;;
		--version | --base-url | --offline | --set | --root | --method | --repo-url | --channel)
			[ "$#" -ge 2 ] || usage_error "$1 needs a value"
			option_value "$1" "$2"
			shift
			;;
		--version=* | --base-url=* | --offline=* | --set=* | --root=* | --method=* | --repo-url=* | --channel=*)
			option_value "${1%%=*}" "${1#*=}"
			;;
		--)
			shift
			while [ "$#" -gt 0 ]; do
				add_positional "$1"
				shift
			done
			break
			;;
		-*) usage_error "unknown option: $(printable "$1")" ;;
		*) add_positional "$1" ;;
		esac
		shift
	done
}

# option_value OPTION VALUE: one option that takes a value.
option_value() {
	case $1 in
	--version)
		is_word "$2" || usage_error "--version: $(printable "$2") is not a version"
		opt_version=$2
		;;
	--base-url)
		opt_base_url=$2
		opt_base_url_given=yes
		;;
	--offline)
		[ -n "$2" ] || usage_error "--offline needs a directory"
		opt_offline=$2
		;;
	--root)
		[ -n "$2" ] || usage_error "--root needs a directory"
		opt_root=$2
		;;
	--method)
		case $2 in
		package | repo) opt_method=$2 ;;
		*) usage_error "--method: $(printable "$2") is neither package nor repo" ;;
		esac
		;;
	--repo-url)
		[ -n "$2" ] || usage_error "--repo-url needs a URL"
		opt_repo_url=$2
		;;
	--channel)
		is_channel "$2" || usage_error "--channel: $(printable "$2") is not a channel name (a-z, 0-9 and . + -, starting with a letter or digit, as omnipack publish names them)"
		opt_channel=$2
		;;
	--set)
		o_key=${2%%=*}
		case $2 in
		*=*) ;;
		*) usage_error "--set needs KEY=VALUE" ;;
		esac
		case $o_key in
		env.*)
			is_env_name "${o_key#env.}" ||
				usage_error "--set: $(printable "$o_key") is not env.NAME with NAME an environment variable name (letters, digits and _, not starting with a digit)"
			;;
		*) is_key "$o_key" || usage_error "--set: $(printable "$o_key") is not a config key (letters, digits, _ and -) or env.NAME for the environment file" ;;
		esac
		printf '%s' "${2#*=}" >"$tmp/arg/$o_key" || die "could not store the value of $o_key"
		arg_keys=$(add_word "$arg_keys" "$o_key")
		;;
	esac
}

# add_positional VALUE: the next bare argument sets the next positional key;
# a first bare argument "uninstall" or "purge" is that command instead, the
# words the seed's documentation uses (curl ... | sh -s uninstall). A value
# equal to one of these words can still be set with --set.
add_positional() {
	if [ "$n_positional" -eq 0 ] && [ -z "$opt_word" ]; then
		case $1 in
		uninstall)
			opt_word=$1 opt_uninstall=yes
			return 0
			;;
		purge)
			opt_word=$1 opt_uninstall=yes opt_purge=yes
			return 0
			;;
		esac
	fi
	n_positional=$((n_positional + 1))
	# The keys are words without blanks or glob characters.
	# shellcheck disable=SC2086
	p_key=$(nth_word "$n_positional" $positional_keys)
	if [ -z "$p_key" ]; then
		if [ -z "$positional_keys" ]; then
			usage_error "unexpected argument: $(printable "$1")"
		fi
		usage_error "too many arguments: this installer takes at most: $positional_keys"
	fi
	printf '%s' "$1" >"$tmp/pos/$p_key" || die "could not store the value of $p_key"
	pos_keys=$(add_word "$pos_keys" "$p_key")
}

# nth_word N WORD...: prints the Nth word, or nothing.
nth_word() {
	n_n=$1
	shift
	[ "$#" -ge "$n_n" ] || return 0
	shift $((n_n - 1))
	printf '%s\n' "$1"
}

# add_word LIST WORD: prints LIST with WORD added once.
add_word() {
	case " $1 " in
	*" $2 "*) printf '%s\n' "$1" ;;
	*) printf '%s\n' "$1${1:+ }$2" ;;
	esac
}

# config_env_keys: prints the keys the environment may set: the positional
# and the secret keys.
config_env_keys() {
	c_list=
	for c_k in $positional_keys $secret_keys; do
		c_list=$(add_word "$c_list" "$c_k")
	done
	printf '%s\n' "$c_list"
}

# env_name KEY: prints the environment variable for KEY: NAME_KEY in upper
# case, - and . as _ (env.TOKEN: NAME_ENV_TOKEN).
env_name() {
	printf '%s%s\n' "$env_prefix" "$(printf '%s' "$1" | tr 'abcdefghijklmnopqrstuvwxyz.-' 'ABCDEFGHIJKLMNOPQRSTUVWXYZ__')"
}

# collect_settings: merges the config values into $tmp/set, the environment
# first, then arguments, then --set, and sets set_keys (config keys) and
# env_keys (env.NAME keys, for the environment file), and their summaries.
# The environment variables are unset once read, so no process started
# later (the service, under sysvinit) inherits a secret.
collect_settings() {
	set_keys=
	for c_k in $(config_env_keys); do
		c_var=$(env_name "$c_k")
		c_isset=
		eval "c_isset=\${$c_var+yes}"
		if [ "$c_isset" = yes ]; then
			c_val=
			eval "c_val=\$$c_var"
			printf '%s' "$c_val" >"$tmp/set/$c_k" || die "could not store the value of $c_k"
			c_val=
			unset "$c_var"
			set_keys=$(add_word "$set_keys" "$c_k")
		fi
	done
	for c_k in $pos_keys; do
		cp "$tmp/pos/$c_k" "$tmp/set/$c_k" || die "could not store the value of $c_k"
		set_keys=$(add_word "$set_keys" "$c_k")
	done
	for c_k in $arg_keys; do
		cp "$tmp/arg/$c_k" "$tmp/set/$c_k" || die "could not store the value of $c_k"
		set_keys=$(add_word "$set_keys" "$c_k")
	done
	c_all=$set_keys
	set_keys='' env_keys='' set_summary='' env_summary=''
	for c_k in $c_all; do
		if is_secret "$c_k"; then
			c_shown="$c_k=<secret>"
		else
			c_shown="$c_k=$(printable "$(cat "$tmp/set/$c_k")")"
		fi
		case $c_k in
		env.*)
			check_env_value "$c_k"
			env_keys="$env_keys${env_keys:+ }$c_k"
			env_summary="$env_summary${env_summary:+, }$c_shown"
			;;
		*)
			set_keys="$set_keys${set_keys:+ }$c_k"
			set_summary="$set_summary${set_summary:+, }$c_shown"
			;;
		esac
	done
	if [ -n "$set_keys" ] && [ -z "$config_path" ]; then
		usage_error "$pkg_name has no config file to set $set_keys in"
	fi
}

# url_host URL: sets u_host to URL's host ([::1] keeps its brackets).
url_host() {
	u_rest=${1#*://}
	u_hp=${u_rest%%/*}
	u_hp=${u_hp##*@}
	case $u_hp in
	\[*) u_host="${u_hp%%\]*}]" ;;
	*) u_host=${u_hp%%:*} ;;
	esac
}

# is_loopback HOST: true for localhost, [::1] and 127.x.y.z.
is_loopback() {
	case $1 in
	localhost | '[::1]') return 0 ;;
	127.*) ;;
	*) return 1 ;;
	esac
	case $1 in
	*[!0123456789.]* | *..* | *.) return 1 ;;
	esac
	l_ifs=$IFS
	IFS=.
	# Split on the dots; the words are digits only.
	# shellcheck disable=SC2086
	set -- $1
	IFS=$l_ifs
	[ "$#" -eq 4 ]
}

# check_base_url: checks the base URL before any network access (check_url).
# Sets base, base_dir (with --version) and proto (what curl may use, for
# redirects too).
check_base_url() {
	base=${opt_base_url:-$default_base_url}
	if [ -z "$base" ]; then
		usage_error "no base URL is built in: pass --base-url URL or --offline DIR"
	fi
	check_url "base URL" "$base"
	base=$c_url
	base_dir=$base
	if [ -n "$opt_version" ]; then
		base_dir=$base/$opt_version
	fi
}

# check_url WHAT URL: https, or plain http to a loopback address, or plain
# http anywhere with --insecure-http; sets c_url (URL without trailing
# slashes), u_host and proto.
check_url() {
	c_url=$2
	case $c_url in
	*[!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~:/@%+=,-\[\]]*)
		usage_error "$1 $(printable "$c_url") holds characters a URL of a release does not need"
		;;
	esac
	while :; do
		case $c_url in
		*/) c_url=${c_url%/} ;;
		*) break ;;
		esac
	done
	url_host "$c_url"
	case $c_url in
	https://?*)
		proto='=https'
		;;
	http://?*)
		if is_loopback "$u_host"; then
			proto='=http,https'
		elif [ "$opt_insecure_http" = yes ]; then
			proto='=http,https'
			warn "--insecure-http: fetching from $(printable "$c_url") over plain http; the signature check still protects the install"
		else
			die "refusing plain http to $(printable "$u_host"): use an https $1 (plain http is accepted only for loopback addresses, or with --insecure-http); nothing was fetched"
		fi
		;;
	*)
		usage_error "$1 $(printable "$c_url") is not an http(s) URL"
		;;
	esac
	[ -n "$u_host" ] || usage_error "$1 $(printable "$c_url") has no host"
}

# choose_downloader: curl, else wget (GNU or BusyBox), for network mode.
choose_downloader() {
	wget_opts=
	if have curl; then
		downloader=curl
	elif have wget; then
		downloader=wget
		if wget --version 2>/dev/null | grep -q 'GNU Wget'; then
			# A stall limit, and two tries instead of twenty.
			wget_opts='-T 30 --tries=2'
		fi
		# BusyBox wget gets no -T: BusyBox 1.35 (Debian 12) crashes with
		# it. The overall time limit below still applies.
	else
		die "neither curl nor wget is installed: install one, or use --offline DIR"
	fi
	wget_timeout=no
	if have timeout && timeout 5 true 2>/dev/null; then
		wget_timeout=yes
	fi
}

# fetch NAME OUT MAX: fetches the release file NAME into OUT, from the base
# URL or the --offline directory, reading at most MAX+1 bytes, so that more
# than MAX is noticed without storing endless data. Sets fetch_err and
# returns 1 when the transfer fails; the caller checks the size.
fetch() {
	fetch_err=
	if [ -n "$opt_offline" ]; then
		f_src=$opt_offline/$1
		printf '+ head -c %s %s > %s\n' "$(($3 + 1))" "$(quoted "$f_src")" "$(quoted "$2")"
		if [ ! -f "$f_src" ]; then
			fetch_err="$f_src does not exist"
			return 1
		fi
		if ! head -c "$(($3 + 1))" "$f_src" >"$2"; then
			fetch_err="could not read $f_src"
			return 1
		fi
		return 0
	fi
	f_url=$base_dir/$1
	f_limit=$(($3 + 1))
	# Two minutes, plus a second for every 64 KiB: a floor of 64 KiB/s on a
	# large file, besides the stall limits below.
	f_time=$((120 + $3 / 65536))
	rm -f "$tmp/fetch.rc" "$tmp/fetch.err"
	if [ "$downloader" = curl ]; then
		printf '+ %s | head -c %s > %s\n' "$(quoted curl -fsSL -g --proto "$proto" --proto-redir "$proto" --max-redirs 5 --connect-timeout 30 --speed-limit 1024 --speed-time 30 --max-time "$f_time" --max-filesize "$3" "$f_url")" "$f_limit" "$(quoted "$2")"
		{
			curl -fsSL -g --proto "$proto" --proto-redir "$proto" --max-redirs 5 --connect-timeout 30 \
				--speed-limit 1024 --speed-time 30 --max-time "$f_time" --max-filesize "$3" \
				"$f_url" </dev/null 2>"$tmp/fetch.err"
			echo "$?" >"$tmp/fetch.rc"
		} | head -c "$f_limit" >"$2"
	else
		f_pre=
		[ "$wget_timeout" != yes ] || f_pre="timeout $f_time "
		# wget_opts holds plain words.
		# shellcheck disable=SC2086
		printf '+ %s%s | head -c %s > %s\n' "$f_pre" "$(quoted wget -q $wget_opts -O - "$f_url")" "$f_limit" "$(quoted "$2")"
		{
			# shellcheck disable=SC2086
			if [ "$wget_timeout" = yes ]; then
				timeout "$f_time" wget -q $wget_opts -O - "$f_url" </dev/null 2>"$tmp/fetch.err"
			else
				wget -q $wget_opts -O - "$f_url" </dev/null 2>"$tmp/fetch.err"
			fi
			echo "$?" >"$tmp/fetch.rc"
		} | head -c "$f_limit" >"$2"
	fi
	f_rc=$(cat "$tmp/fetch.rc" 2>/dev/null) || f_rc=1
	if [ "$f_rc" != 0 ]; then
		fetch_err="$downloader exited with status $f_rc"
		if [ -s "$tmp/fetch.err" ]; then
			fetch_err="$fetch_err: $(head -n 3 "$tmp/fetch.err" | tr '\n' ' ' | LC_ALL=C tr -c ' -~' '?')"
		fi
		fetch_err="$fetch_err ($(printable "$f_url"))"
		return 1
	fi
	return 0
}

# fetch_small NAME MAX: fetches a manifest or signature file into $tmp/NAME;
# dies when it cannot be had or is larger than MAX.
fetch_small() {
	if ! fetch "$1" "$tmp/$1" "$2"; then
		# Bigger than MAX: head cut the transfer short.
		if [ -f "$tmp/$1" ] && [ "$(file_size "$tmp/$1")" -gt "$2" ]; then
			die "$1 is larger than $2 bytes: refusing it"
		fi
		die "could not fetch $1: $fetch_err"
	fi
	[ "$(file_size "$tmp/$1")" -le "$2" ] || die "$1 is larger than $2 bytes: refusing it"
}

# choose_verifier: picks how release.json's signature is checked, before
# anything is fetched: openssl with the release key; else gpgv with the
# OpenPGP key; else, on an apk host, apk-tools checking the package itself
# with the apk key; else nothing, which is refused unless
# --insecure-skip-verify. Sets verifier.
choose_verifier() {
	if have openssl; then
		verifier=openssl
	elif have gpgv; then
		verifier=gpgv
	elif c_tool=$(pkg_verify_tool "$detect_package_format") && have "$c_tool"; then
		verifier=package
		warn "neither openssl nor gpgv is installed, so release.json's signature cannot be checked here."
		warn "$c_tool will check the package's own signature against the key built into this installer ($apk_key_name.rsa.pub) before anything is installed;"
		warn "the manifest's expiry and rollback checks rely on an unverified manifest. Install openssl for the full check."
	elif [ "$opt_insecure_skip_verify" = yes ]; then
		verifier=none
		warn "**************************************************************************"
		warn "--insecure-skip-verify: this host has no openssl, gpgv or apk to check a"
		warn "signature with, so NOTHING about this release is authenticated: not the"
		warn "manifest's signature, not its expiry, not the rollback protection. The"
		warn "package is checked only against the UNSIGNED sha256 in the manifest, which"
		warn "whoever serves the files can change. Install openssl or gpgv instead."
		warn "**************************************************************************"
	else
		die "cannot verify the release: this host has neither openssl nor gpgv$(c_tool=$(pkg_verify_tool "$detect_package_format") && printf ' nor %s' "$c_tool"). Install openssl (or gpgv) and run again. --insecure-skip-verify installs without any signature check and is not recommended; nothing was fetched"
	fi
}

# verify_manifest: checks release.json's signature with the verifier
# choose_verifier picked and the keys built into this installer. Sets
# verified_by.
verify_manifest() {
	verified_by=$verifier
	case $verifier in
	openssl)
		fetch_small release.json.sig "$sig_max"
		printf '%s\n' "$release_pub" >"$tmp/release.pub" || die "could not write the release key"
		b64_decode "$tmp/release.json.sig" "$tmp/release.json.sig.der" ||
			die "release.json.sig is not base64: refusing the release"
		if openssl dgst -sha256 -verify "$tmp/release.pub" -signature "$tmp/release.json.sig.der" \
			"$tmp/release.json" >"$tmp/verify.out" 2>&1 </dev/null && grep -q 'Verified OK' "$tmp/verify.out"; then
			say "release.json: signature verified with openssl and the release key built into this installer"
			return 0
		fi
		die "release.json's signature does not verify with the release key built into this installer: the manifest was changed after signing or signed with another key; refusing it, nothing was installed"
		;;
	gpgv)
		fetch_small release.json.asc "$sig_max"
		write_pgp_keyring "$tmp/pgp.pub.gpg"
		mkdir -m 700 "$tmp/gnupg" || die "could not create a GnuPG home"
		if gpgv --homedir "$tmp/gnupg" --keyring "$tmp/pgp.pub.gpg" "$tmp/release.json.asc" "$tmp/release.json" \
			>"$tmp/verify.out" 2>&1 </dev/null; then
			say "release.json: OpenPGP signature verified with gpgv and the key built into this installer (no openssl here)"
			return 0
		fi
		die "release.json's OpenPGP signature does not verify with the key built into this installer: the manifest was changed after signing or signed with another key; refusing it, nothing was installed"
		;;
	esac
}

# The manifest parser. release.json is written by Go's encoding/json with a
# two-space indent, one field a line; this reads exactly that layout and
# refuses any other, and every value is checked against a strict pattern.
# It prints one fact a line ("name crashwatch", "artifact NAME FORMAT ARCH
# OS VERSION SIZE SHA256 ENVIRONMENT_FILE", ...), or "error MESSAGE" and
# exits 1. The time
# fields are RFC 3339; their Unix time is computed here, since date(1)
# parses dates differently on every system.
# shellcheck disable=SC2016 # an awk program
manifest_awk='
function fail(msg) { print "error " msg; failed = 1; exit 1 }
function clean(s) { gsub(/[^ -~]/, "?", s); if (length(s) > 80) s = substr(s, 1, 80) "..."; return s }
function jstr(v, what) {
	if (v !~ /^"[^"\\]*"$/) fail(what " is not a plain string: " clean(v))
	return substr(v, 2, length(v) - 2)
}
function digits(v, what) {
	if (v !~ /^[0-9]+$/ || length(v) > 18) fail(what " is not a number: " clean(v))
	return v
}
function epoch(s,    y, mo, d, h, mi, se, rest, off, yy, era, yoe, mp, doy, doe) {
	if (s !~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]/) return -1
	y = substr(s, 1, 4) + 0; mo = substr(s, 6, 2) + 0; d = substr(s, 9, 2) + 0
	h = substr(s, 12, 2) + 0; mi = substr(s, 15, 2) + 0; se = substr(s, 18, 2) + 0
	rest = substr(s, 20)
	if (rest ~ /^\.[0-9]+/) sub(/^\.[0-9]+/, "", rest)
	if (rest == "Z") off = 0
	else if (rest ~ /^[+-][0-9][0-9]:[0-9][0-9]$/) {
		off = (substr(rest, 2, 2) * 60 + substr(rest, 5, 2)) * 60
		if (substr(rest, 1, 1) == "+") off = -off
	} else return -1
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || y < 1970) return -1
	# Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
	yy = y - (mo <= 2 ? 1 : 0)
	era = int(yy / 400)
	yoe = yy - era * 400
	mp = (mo + 9) % 12
	doy = int((153 * mp + 2) / 5) + d - 1
	doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy
	return (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + se + off
}
function field(line, indent,    k) {
	if (!match(line, "^" indent "\"[a-z0-9_]+\": ")) fail("unexpected line " NR ": " clean(line))
	k = substr(line, length(indent) + 2, RLENGTH - length(indent) - 4)
	val = substr(line, RLENGTH + 1)
	sub(/,$/, "", val)
	return k
}
function emit(    k, n, i, need) {
	split("name format arch os version size sha256", need, " ")
	for (i = 1; i <= 7; i++) if (!(need[i] in af)) fail("an artifact has no " need[i])
	n = af["name"]
	if (n !~ /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/ || n ~ /\.\./ || length(n) > 200)
		fail("artifact name \"" clean(n) "\" is not a plain file name")
	if (af["format"] !~ /^[a-z0-9_]+$/) fail("artifact " n ": bad format " clean(af["format"]))
	# arch, os and version may be empty (the provenance has no arch); an
	# empty one is printed as "-" so that the fields stay in place.
	if (af["arch"] !~ /^[a-z0-9_]*$/) fail("artifact " n ": bad arch " clean(af["arch"]))
	if (af["os"] !~ /^[a-z0-9_]*$/) fail("artifact " n ": bad os " clean(af["os"]))
	if (af["version"] !~ /^([A-Za-z0-9][A-Za-z0-9._+~:-]*)?$/) fail("artifact " n ": bad version " clean(af["version"]))
	if (af["sha256"] !~ /^[0-9a-f]+$/ || length(af["sha256"]) != 64) fail("artifact " n ": sha256 is not 64 hex digits")
	# The environment file: a clean path of plain characters below /etc/.
	ef = af["environment_file"]
	if (ef != "" && (ef !~ /^\/etc(\/[A-Za-z0-9_.:+@~-]+)+$/ || ef ~ /\/\.\.?(\/|$)/ || length(ef) > 255))
		fail("environment_file of " n " is not a clean path below /etc/: " clean(ef))
	if (ef == "") ef = "-"
	for (i = 1; i <= 7; i++) if (af[need[i]] == "") af[need[i]] = "-"
	print "artifact", n, af["format"], af["arch"], af["os"], af["version"], af["size"], af["sha256"], ef
}
BEGIN { state = "start" }
{
	line = $0
	if (state == "start") {
		if (line != "{") fail("does not start with {")
		state = "top"
		next
	}
	if (state == "end") {
		if (line != "") fail("text after the closing }")
		next
	}
	if (state == "top") {
		if (line == "}") { state = "end"; next }
		key = field(line, "  ")
		if (seen[key]++) fail("field " key " appears twice")
		if (key == "schema" || key == "release" || key == "source_date_epoch" || key == "release_version") {
			v = digits(val, key)
			print key, v
		} else if (key == "name") {
			v = jstr(val, key)
			if (v !~ /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/ || v ~ /\.\./ || length(v) > 32) fail("bad name " clean(v))
			print key, v
		} else if (key == "version") {
			v = jstr(val, key)
			if (v !~ /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/) fail("bad version " clean(v))
			print key, v
		} else if (key == "signed_at" || key == "expires") {
			v = jstr(val, key)
			e = epoch(v)
			if (e < 0) fail(key " is not an RFC 3339 UTC time: " clean(v))
			print key, v
			printf "%s_epoch %.0f\n", key, e
		} else if (key == "inits") {
			if (val == "[") state = "inits"
			else if (val != "[]" && val != "null") fail("bad inits")
		} else if (key == "health_command") {
			if (val != "[") fail("bad health_command")
			state = "health"
		} else if (key == "artifacts") {
			if (val == "[") state = "arts"
			else if (val != "[]" && val != "null") fail("bad artifacts")
		} else if (key == "keys") {
			if (val == "{") state = "keys"
			else if (val != "null") fail("bad keys")
		} else fail("unknown field " clean(key))
		next
	}
	if (state == "inits") {
		if (line ~ /^  \],?$/) { state = "top"; next }
		if (line !~ /^    "[a-z0-9]+",?$/) fail("bad init entry: " clean(line))
		next
	}
	if (state == "health") {
		if (line ~ /^  \],?$/) {
			if (!health_words) fail("health_command is empty")
			state = "top"
			next
		}
		# Plain printable words, the first a clean absolute path.
		v = line
		sub(/^    /, "", v)
		sub(/,$/, "", v)
		v = jstr(v, "health_command word")
		if (v !~ /^[ -~]+$/ || length(v) > 1024 || ++health_words > 64) fail("bad health_command word: " clean(v))
		if (health_words == 1 && (v !~ /^\// || v ~ /\/\.\.?(\/|$)/ || v ~ /\/\// || v ~ /.\/$/))
			fail("health_command does not start with a clean absolute path: " clean(v))
		print "health_word " v
		next
	}
	if (state == "keys") {
		if (line ~ /^  },?$/) { state = "top"; next }
		key = field(line, "    ")
		jstr(val, "key " key)
		next
	}
	if (state == "arts") {
		if (line ~ /^  \],?$/) { state = "top"; next }
		if (line != "    {") fail("bad artifact list at line " NR ": " clean(line))
		state = "art"
		split("", af)
		next
	}
	if (state == "art") {
		if (line ~ /^    },?$/) { emit(); state = "arts"; next }
		key = field(line, "      ")
		if (key in af) fail("artifact field " key " appears twice")
		if (key == "size") af[key] = digits(val, "size")
		else if (key == "name" || key == "format" || key == "arch" || key == "os" || key == "version" || key == "sha256") af[key] = jstr(val, "artifact " key)
		else if (key == "package") jstr(val, "artifact package")
		else if (key == "environment_file") af[key] = jstr(val, "artifact environment_file")
		else if (key == "image_repository" || key == "image_index") jstr(val, "artifact " key)
		else fail("unknown artifact field " clean(key))
		next
	}
}
END {
	if (failed) exit 1
	if (state != "end") { print "error the manifest ends early"; exit 1 }
}
'

# parse_manifest: reads the verified release.json into m_* and
# $tmp/artifacts (one "NAME FORMAT ARCH OS VERSION SIZE SHA256
# ENVIRONMENT_FILE" a line, - for none).
parse_manifest() {
	if ! LC_ALL=C awk "$manifest_awk" "$tmp/release.json" >"$tmp/manifest.facts" 2>"$tmp/manifest.err"; then
		p_msg=$(sed -n 's/^error //p' "$tmp/manifest.facts" | head -n 1)
		[ -n "$p_msg" ] || p_msg=$(head -n 1 "$tmp/manifest.err")
		die "release.json is not a valid release manifest: $(printable "$p_msg"); refusing it"
	fi
	m_schema=''
	m_name=''
	m_version=''
	m_release=''
	m_release_version=''
	m_expires=''
	m_expires_epoch=''
	: >"$tmp/artifacts"
	# One word a line, as the parser printed them.
	sed -n 's/^health_word //p' "$tmp/manifest.facts" >"$tmp/health_command"
	while read -r p_kind p_1 p_2 p_3 p_4 p_5 p_6 p_7 p_8; do
		case $p_kind in
		schema) m_schema=$p_1 ;;
		name) m_name=$p_1 ;;
		version) m_version=$p_1 ;;
		release) m_release=$p_1 ;;
		release_version) m_release_version=$p_1 ;;
		expires) m_expires=$p_1 ;;
		expires_epoch) m_expires_epoch=$p_1 ;;
		artifact)
			# The parser checked these; check the name once more, as it
			# becomes a path.
			is_file_name "$p_1" || die "release.json: artifact name $(printable "$p_1") is not a plain file name; refusing the release"
			printf '%s %s %s %s %s %s %s %s\n' "$p_1" "$p_2" "$p_3" "$p_4" "$p_5" "$p_6" "$p_7" "$p_8" >>"$tmp/artifacts"
			;;
		esac
	done <"$tmp/manifest.facts"
}

# check_manifest: the manifest is for this package, of a known schema,
# signed, not expired, and the pinned version when --version was given.
check_manifest() {
	[ "$m_schema" = 1 ] || die "release.json has schema $(printable "$m_schema"); this installer reads schema 1"
	[ "$m_name" = "$pkg_name" ] || die "release.json is for $(printable "$m_name"), not $pkg_name: refusing it"
	is_word "$m_version" || die "release.json has no version"
	is_digits "$m_release" || die "release.json has no release number"
	if [ -z "$m_release_version" ] || [ -z "$m_expires_epoch" ]; then
		if [ "$verified_by" = openssl ] || [ "$verified_by" = gpgv ]; then
			die "release.json carries no release_version or expires: it is not a signed release manifest"
		fi
		warn "release.json carries no release_version or expiry: no rollback or freeze protection"
	fi
	if [ -n "$m_expires_epoch" ]; then
		c_now=$(date -u +%s)
		is_digits "$c_now" || die "cannot read the clock (date -u +%s)"
		if [ "$c_now" -ge "$m_expires_epoch" ]; then
			die "release.json expired at $m_expires: a mirror may be serving a frozen, outdated release; refusing it (the vendor renews it with omnipack resign)"
		fi
	fi
	if [ -n "$opt_version" ] && [ "$m_version" != "$opt_version" ]; then
		die "asked for version $opt_version, but release.json at $(printable "${opt_offline:-$base_dir}") is version $m_version"
	fi
	say "release: $pkg_name $m_version-$m_release, release_version ${m_release_version:-none}, expires ${m_expires:-never}"
}

# choose_artifact: picks the package for this host's package format and
# architecture from the manifest, else the release tarball (the unpacked
# format), as omnipack install does; sets a_name a_format a_arch a_version
# a_size a_sha256.
choose_artifact() {
	a_format=$detect_package_format
	a_arch=$detect_arch
	case $a_format in
	none)
		case " $detect_distro_id $detect_distro_like " in
		*" nixos "*)
			die "this is NixOS, whose system is built from its configuration: this installer does not change it. Install $pkg_name the Nix way, with a package or module built from the release tarball"
			;;
		esac
		die "no supported package format for this host (distro $detect_distro_id)"
		;;
	esac
	case " $package_formats " in
	*" $a_format "*) ;;
	*) die "package format $(printable "$a_format") is not one omnipack installs" ;;
	esac
	[ "$a_arch" != unknown ] || die "cannot tell this host's architecture (uname -m: $(uname -m 2>/dev/null | LC_ALL=C tr -c 'a-zA-Z0-9_\n' '?'))"
	find_artifact "$a_format"
	if [ -z "$a_name" ] && [ "$a_format" != "$unpacked_format" ]; then
		find_artifact "$unpacked_format"
		if [ -n "$a_name" ]; then
			say "note: the release has no $a_format package for $a_arch: installing the release $unpacked_format instead; $detect_package_manager will not know about its files"
			a_format=$unpacked_format
		fi
	fi
	if [ -z "$a_name" ]; then
		c_have=$(awk -v formats="$package_formats" 'BEGIN { n = split(formats, f, " "); for (i = 1; i <= n; i++) ok[f[i]] = 1 }
			($2 in ok) { printf "%s%s/%s", sep, $2, $3; sep = ", " }' "$tmp/artifacts")
		die "release $m_version has no $a_format package (nor a $unpacked_format) for $a_arch (it has: ${c_have:-none}); $pkg_name cannot be installed on this host"
	fi
	if ! is_file_name "$a_name" || ! is_digits "$a_size"; then
		die "release.json: bad artifact entry $(printable "$a_name")"
	fi
	say "package: $a_name ($a_format $a_version for $a_arch, $a_size bytes)"
}

# find_artifact FORMAT: sets a_name a_version a_size a_sha256 a_envfile to
# the manifest's FORMAT package for a_arch, a_name empty when there is none;
# two of them are refused.
find_artifact() {
	a_name=
	f_found=0
	while read -r c_n c_f c_a c_o c_v c_s c_h c_e; do
		if [ "$c_f" = "$1" ] && [ "$c_a" = "$a_arch" ] && [ "$c_o" = linux ]; then
			a_name=$c_n a_version=$c_v a_size=$c_s a_sha256=$c_h a_envfile=
			[ "$c_e" = - ] || a_envfile=$c_e
			f_found=$((f_found + 1))
		fi
	done <"$tmp/artifacts"
	[ "$f_found" -le 1 ] || die "the release lists $f_found $1 packages for $a_arch; refusing to guess"
}

# read_record: reads the installer's record of the installed release into
# rec_*; all empty when there is none.
read_record() {
	rec_file=$root_prefix$record_dir/$pkg_name.release
	rec_release_version=''
	rec_version=''
	rec_release=''
	rec_format=''
	rec_artifact=''
	rec_method=''
	[ -f "$rec_file" ] || return 0
	while IFS='=' read -r r_k r_v; do
		case $r_k in
		release_version) is_digits "$r_v" && rec_release_version=$r_v ;;
		version) is_word "$r_v" && rec_version=$r_v ;;
		release) is_digits "$r_v" && rec_release=$r_v ;;
		format) is_word "$r_v" && rec_format=$r_v ;;
		artifact) is_file_name "$r_v" && rec_artifact=$r_v ;;
		method) is_word "$r_v" && rec_method=$r_v ;;
		esac
	done <"$rec_file"
}

# write_record: records the release just installed.
write_record() {
	if [ "$opt_dry_run" = yes ]; then
		printf '  would write: %s\n' "$record_dir/$pkg_name.release"
		return 0
	fi
	(umask 022 && mkdir -p "$record_dir") || die "could not create $record_dir"
	w_pm=$detect_package_manager w_pkg=
	if [ "$a_format" = "$unpacked_format" ]; then
		w_pm=none
	else
		w_pkg=$(pkg_package "$a_format")
	fi
	if ! (umask 022 && printf 'release_version=%s\nversion=%s\nrelease=%s\nformat=%s\npackage_manager=%s\nartifact=%s\nsha256=%s\nmethod=%s\n%s' \
		"${m_release_version:-0}" "$m_version" "$m_release" "$a_format" "$w_pm" "$a_name" "$a_sha256" "$opt_method" \
		"${w_pkg:+package=$w_pkg
}" >"$record_dir/.$pkg_name.release.new") ||
		! mv -f "$record_dir/.$pkg_name.release.new" "$record_dir/$pkg_name.release"; then
		die "could not write $record_dir/$pkg_name.release"
	fi
}

# pkg_state FORMAT: prints installed, config (a removed deb whose config is
# kept) or absent, as FORMAT's package manager sees $pkg_name; the
# unpacked format's file list tells for itself.
pkg_state() {
	if [ "$1" = "$unpacked_format" ]; then
		if [ -f "$root_prefix$tarball_files" ]; then echo installed; else echo absent; fi
	elif pkg_installed "$1"; then
		echo installed
	elif pkg_known "$1"; then
		echo config
	else
		echo absent
	fi
}

# plan: compares the manifest with the installed release and sets action
# (install, upgrade, downgrade, reinstall or none) and op, the package
# manager's operation, by the rules omnipack install plans with: a manifest
# older than the installed one (lower release_version) is a rollback,
# refused without --allow-downgrade; the same release is installed again
# only when its binary is gone, or with --reinstall.
plan() {
	read_record
	p_present=no
	if [ -e "$root_prefix/usr/bin/$pkg_name" ] || [ -f "$root_prefix$tarball_files" ]; then
		p_present=yes
	fi
	if [ -z "$rec_release_version" ]; then
		action=install
		[ "$p_present" = no ] || say "note: $pkg_name is on this host but omnipack recorded no release; installing over it"
	elif [ -n "$m_release_version" ] && [ "$m_release_version" -lt "$rec_release_version" ]; then
		if [ "$opt_allow_downgrade" != yes ]; then
			die "release.json (release_version $m_release_version, version $m_version) is older than the installed release (release_version $rec_release_version, version $rec_version): refusing a rollback to an older signed manifest; pass --allow-downgrade to install it anyway"
		fi
		warn "--allow-downgrade: installing the older release $m_version over $rec_version"
		action=downgrade
	elif [ "${m_release_version:-0}" = "$rec_release_version" ] && [ "$opt_reinstall" != yes ]; then
		if [ "$p_present" = yes ]; then
			action=none
		else
			action=reinstall
			say "note: $pkg_name is recorded as installed but /usr/bin/$pkg_name is missing; installing it again"
		fi
	elif [ "${m_release_version:-0}" = "$rec_release_version" ]; then
		action=reinstall
	else
		action=upgrade
	fi
	op=$action
}

# confirm QUESTION: asks on the terminal, if there is one and --yes was not
# given; without a terminal there is nobody to ask and the answer is yes.
confirm() {
	if [ "$opt_yes" = yes ] || [ "$opt_dry_run" = yes ]; then
		return 0
	fi
	if ! [ -t 1 ] || ! (exec </dev/tty) 2>/dev/null; then
		return 0
	fi
	printf '%s: %s [y/N] ' "$pkg_name" "$1" >/dev/tty
	c_answer=
	read -r c_answer </dev/tty || c_answer=
	case $c_answer in
	y | Y | yes | YES | Yes) return 0 ;;
	esac
	die "not confirmed; nothing was changed"
}

# fetch_artifact: downloads the chosen package into the private temporary
# directory, capped at its signed size, and checks size and sha256.
fetch_artifact() {
	mkdir "$tmp/pkg" || die "could not create $tmp/pkg"
	a_file=$tmp/pkg/$a_name
	if ! fetch "$a_name" "$a_file" "$a_size"; then
		if [ "$downloader" = curl ] && [ "${f_rc:-}" = 63 ]; then
			die "the server announced more than the signed size of $a_size bytes for $a_name: refusing it"
		fi
		if [ -f "$a_file" ] && [ "$(file_size "$a_file")" -gt "$a_size" ]; then
			die "the server sent more than the signed size of $a_size bytes for $a_name: refusing it"
		fi
		die "could not download $a_name: $fetch_err"
	fi
	f_got=$(file_size "$a_file")
	if [ "$f_got" -gt "$a_size" ]; then
		die "the server sent more than the signed size of $a_size bytes for $a_name: refusing it"
	fi
	if [ "$f_got" -ne "$a_size" ]; then
		die "$a_name is $f_got bytes, but the signed manifest says $a_size: refusing it"
	fi
	f_sum=$(sha256_of "$a_file") || die "could not compute the sha256 of $a_name"
	if [ "$f_sum" != "$a_sha256" ]; then
		die "$a_name does not match the signed manifest (sha256 $f_sum, signed $a_sha256): it was tampered with or swapped for another file; refusing it, nothing was installed"
	fi
	say "$a_name: size and sha256 match the signed manifest"
}

# prepare_artifact: the last checks before any change. The tarball is
# unpacked into the temporary directory and its contents checked; an apk
# whose manifest could not be verified is checked by apk-tools; the tool the
# install runs must be there (a dry run only says so: it plans for hosts,
# and trees, that lack it).
prepare_artifact() {
	if [ "$a_format" = "$unpacked_format" ]; then
		tarball_prepare
	else
		p_tool=$(pkg_tool "$a_format" "$detect_package_manager") ||
			die "$detect_package_manager does not install $a_format packages"
		if ! have "$p_tool"; then
			[ "$opt_dry_run" = yes ] || die "$p_tool is not installed"
			say "dry run: $p_tool is not installed here; the install would need it"
		fi
	fi
	if p_key=$(pkg_trusted_key "$a_format"); then
		p_keys=$tmp/pmkeys
		mkdir "$p_keys" || die "could not create $p_keys"
		printf '%s\n' "$apk_pub" >"$p_keys/${p_key##*/}" || die "could not write the package key"
	fi
	if [ "$verified_by" = package ]; then
		if pkg_verify "$a_format"; then
			say "$a_name: its own signature verified with $(pkg_verify_tool "$a_format") and the key built into this installer"
		else
			die "$a_name: its own signature does not verify with the key built into this installer: refusing it, nothing was installed"
		fi
	fi
}

# tarball_prepare: unpacks the release tarball into $tmp/unpack and checks
# that it holds only files and directories, that its file list names clean
# absolute paths, and that list and contents agree.
tarball_prepare() {
	have tar || die "tar is not installed"
	t_x=$tmp/unpack
	mkdir "$t_x" || die "could not create $t_x"
	(umask 022 && tar -xzf "$a_file" -C "$t_x" </dev/null) || die "could not unpack $a_name"
	t_odd=$(find "$t_x" ! -type f ! -type d | head -n 1)
	[ -z "$t_odd" ] || die "$a_name holds something other than files and directories: refusing it"
	t_list=$t_x$tarball_files
	[ -f "$t_list" ] || die "$a_name has no file list ($tarball_files): refusing it"
	while IFS= read -r t_p; do
		is_abs_path "$t_p" || die "$a_name lists an unsafe path: $(printable "$t_p")"
		[ -f "$t_x$t_p" ] || die "$a_name lists $t_p but does not hold it"
	done <"$t_list"
	(cd "$t_x" && find . -type f) | sed 's/^\.//' | LC_ALL=C sort >"$tmp/tarball.held"
	LC_ALL=C sort "$t_list" >"$tmp/tarball.listed"
	cmp -s "$tmp/tarball.held" "$tmp/tarball.listed" ||
		die "$a_name holds files its file list does not name: refusing it"
}

# install_artifact: installs the checked package from the local file with
# the package manager's command for the action (pkg_run), after the
# release's key where the package manager checks the package with one.
install_artifact() {
	if [ "$a_format" = "$unpacked_format" ]; then
		tarball_install
		return 0
	fi
	if i_key=$(pkg_trusted_key "$a_format"); then
		install_trusted_key "$i_key"
	fi
	pkg_run "$a_format" "$detect_package_manager" "$op"
	case $? in
	0) ;;
	2) die "$detect_package_manager cannot $op a $a_format package" ;;
	*) die "installing $a_name failed (see the output above)" ;;
	esac
	if [ "$opt_dry_run" != yes ] && [ "$(pkg_state "$a_format")" != installed ]; then
		die "$a_name was not installed (see the output above)"
	fi
}

# pkg_exec CMD ARG...: runs a package manager's or a package script's
# command (through run); a dry run also prints it as a plan line.
pkg_exec() {
	plan_line run "$@"
	run "$@"
}

# plan_line WORD...: with --dry-run, prints "plan: WORD..." with the
# package file as ${ARTIFACT} and the unpacked tarball as ${STAGE}: the
# lines omnipack install --dry-run prints for the same plan.
plan_line() {
	[ "$opt_dry_run" = yes ] || return 0
	l_out=plan:
	for l_w in "$@"; do
		if [ "$l_w" = "${a_file:-}" ]; then
			l_w="\${ARTIFACT}"
		elif [ -n "${t_x:-}" ] && [ "${l_w#"$t_x"/}" != "$l_w" ]; then
			l_w="\${STAGE}/${l_w#"$t_x"/}"
		fi
		l_out="$l_out $l_w"
	done
	printf '%s\n' "$l_out"
}

# install_trusted_key PATH: puts the package key built into this installer
# (the release's apk key) at PATH, where the package manager looks for it.
install_trusted_key() {
	plan_line trust-key "$1"
	if [ -f "$1" ] && cmp -s "$1" "$p_keys/${1##*/}"; then
		return 0
	fi
	if [ "$opt_dry_run" = yes ]; then
		printf '  would write: %s (the package key built into this installer)\n' "$1"
		return 0
	fi
	(umask 022 && mkdir -p "${1%/*}" && cp "$p_keys/${1##*/}" "$1") ||
		die "could not install the release's package key as $1"
	say "installed the release's package key $1"
}

# tarball_install: runs the tarball's preinstall, copies its files into
# place (a config file that exists is kept, the new default written beside
# it as FILE.new), deletes what an older version installed and this one
# does not, and runs postinstall, which sets up and starts the service.
tarball_install() {
	t_x=$tmp/unpack
	t_scripts=$tarball_scripts
	t_list=$tarball_files
	t_count=$(wc -l <"$t_x$t_list" | tr -d ' ')
	if [ "$opt_dry_run" = yes ]; then
		[ ! -f "$t_x$t_scripts/preinstall" ] || pkg_exec /bin/sh "$t_x$t_scripts/preinstall"
		printf '  would copy: %s files into / (as listed in %s; existing config files under /etc/%s are kept, new defaults written as FILE.new)\n' "$t_count" "$t_list" "$pkg_name"
		[ ! -f "$t_x$t_scripts/postinstall" ] || pkg_exec /bin/sh "$t_scripts/postinstall"
		return 0
	fi
	: >"$tmp/tarball.old"
	[ ! -f "$t_list" ] || cp "$t_list" "$tmp/tarball.old" || die "could not read $t_list"
	if [ -f "$t_x$t_scripts/preinstall" ]; then
		pkg_exec /bin/sh "$t_x$t_scripts/preinstall" || die "the tarball's preinstall script failed"
	fi
	printf '+ copy %s files into /\n' "$t_count"
	while IFS= read -r t_p; do
		case $t_p in
		"/etc/$pkg_name/"*)
			if [ -e "$t_p" ]; then
				if ! cmp -s "$t_x$t_p" "$t_p"; then
					(umask 022 && cp -p "$t_x$t_p" "$t_p.new") || die "could not write $t_p.new"
					say "kept $t_p; the new default is $t_p.new"
				fi
				continue
			fi
			;;
		esac
		(umask 022 && mkdir -p "${t_p%/*}") || die "could not create ${t_p%/*}"
		if ! cp -p "$t_x$t_p" "$t_p.omnipack-new" || ! mv -f "$t_p.omnipack-new" "$t_p"; then
			die "could not install $t_p"
		fi
	done <"$t_x$t_list"
	while IFS= read -r t_p; do
		is_abs_path "$t_p" || continue
		case $t_p in
		"/etc/$pkg_name/"*) continue ;;
		esac
		grep -qxF -e "$t_p" "$t_x$t_list" || rm -f "$t_p"
	done <"$tmp/tarball.old"
	if [ -f "$t_scripts/postinstall" ]; then
		pkg_exec /bin/sh "$t_scripts/postinstall" || die "the tarball's postinstall script failed"
	fi
}

# The config editor. For each key in keys, whose value is in the file
# dir/KEY, it replaces the first top-level `KEY = ...` line, else the first
# commented `# KEY = ...` line, else adds `KEY = "VALUE"` before the first
# table (or at the end). Values become TOML basic strings. The values are
# read from files, never from the command line, so they appear in no
# process's arguments. The file is read twice: the first pass finds lines.
# shellcheck disable=SC2016 # an awk program
toml_awk='
function quote(s,    out, i, c) {
	out = "\""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\\") out = out "\\\\"
		else if (c == "\"") out = out "\\\""
		else if (c == "\n") out = out "\\n"
		else if (c == "\t") out = out "\\t"
		else if (c == "\r") out = out "\\r"
		else if (c in ctl) out = out sprintf("\\u%04x", ctl[c])
		else out = out c
	}
	return out "\""
}
function readval(f,    line, s, n) {
	s = ""; n = 0
	while ((getline line < f) > 0) { s = (n++ ? s "\n" : "") line }
	close(f)
	return s
}
BEGIN {
	for (i = 1; i < 32; i++) ctl[sprintf("%c", i)] = i
	ctl[sprintf("%c", 127)] = 127
	nk = split(keys, k, " ")
	for (i = 1; i <= nk; i++) q[k[i]] = quote(readval(dir "/" k[i]))
	table = 0
}
FNR == NR {
	if (!table && $0 ~ /^[ \t]*\[/) table = FNR
	if (!table) {
		for (i = 1; i <= nk; i++) {
			if (!(k[i] in active) && $0 ~ ("^[ \t]*" k[i] "[ \t]*=")) active[k[i]] = FNR
			else if (!(k[i] in commented) && $0 ~ ("^[ \t]*#[ \t]*" k[i] "[ \t]*=")) commented[k[i]] = FNR
		}
	}
	next
}
FNR == 1 {
	for (i = 1; i <= nk; i++) {
		if (k[i] in active) at[active[k[i]]] = k[i]
		else if (k[i] in commented) at[commented[k[i]]] = k[i]
		else add = add k[i] " = " q[k[i]] "\n"
	}
}
{
	if (FNR == table && add != "") { printf "%s\n", add; add = "" }
	if (FNR in at) print at[FNR] " = " q[at[FNR]]
	else print
}
END { if (add != "") printf "%s", add }
'

# apply_settings: writes the collected config values into the config file
# (mode 0640, root:GROUP) when they change it; sets config_changed.
apply_settings() {
	config_changed=no
	[ -n "$set_keys" ] || return 0
	if [ ! -f "$config_path" ] || [ ! -r "$config_path" ]; then
		if [ "$opt_dry_run" = yes ]; then
			printf '  would set: %s in %s (mode 0640, root:%s)\n' "$set_summary" "$config_path" "$config_group"
			config_changed=yes
			return 0
		fi
		die "$config_path is missing after the install: cannot set $set_keys"
	fi
	LC_ALL=C awk -v keys="$set_keys" -v dir="$tmp/set" "$toml_awk" "$config_path" "$config_path" >"$tmp/config.new" ||
		die "could not edit $config_path"
	if cmp -s "$tmp/config.new" "$config_path"; then
		say "$config_path already has $set_summary"
		return 0
	fi
	config_changed=yes
	if [ "$opt_dry_run" = yes ]; then
		printf '  would set: %s in %s (mode 0640, root:%s)\n' "$set_summary" "$config_path" "$config_group"
		return 0
	fi
	replace_private_file "$tmp/config.new" "$config_path" "$config_group"
	say "set $set_summary in $config_path"
}

# replace_private_file SRC DEST GROUP: replaces DEST by a copy of SRC made
# beside it, 0640 root:GROUP (0600 root:root while GROUP does not exist),
# renamed into place last so that DEST is never half written.
replace_private_file() {
	r_dir=${2%/*}
	r_tmp=$(mktemp "$r_dir/.${2##*/}.XXXXXX") || die "could not create a file in $r_dir"
	if ! cat "$1" >"$r_tmp"; then
		rm -f "$r_tmp"
		die "could not write $r_tmp"
	fi
	if [ -n "$3" ] && group_exists "$3"; then
		chown "root:$3" "$r_tmp" && chmod 0640 "$r_tmp"
	else
		chown root:root "$r_tmp" && chmod 0600 "$r_tmp"
	fi || {
		rm -f "$r_tmp"
		die "could not set the owner and mode of $2"
	}
	mv -f "$r_tmp" "$2" || {
		rm -f "$r_tmp"
		die "could not replace $2"
	}
}

# The environment file's value check, as omnipack install's CheckSetting:
# at most 4096 bytes of UTF-8 without control characters (the caller
# checks for newlines). It prints why a value is refused and exits 1.
# shellcheck disable=SC2016 # an awk program
env_value_awk='
BEGIN { for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i }
function cont(b) { return b >= 128 && b <= 191 }
{
	v = $0
	n = length(v)
	if (n > 4096) { print "is longer than 4096 bytes"; exit 1 }
	for (i = 1; i <= n; i++) {
		b = ord[substr(v, i, 1)]
		if (b < 32 || b == 127) { print "contains a newline or another control character, which is not allowed"; exit 1 }
		if (b < 128) continue
		# UTF-8: the lead byte says how many continuation bytes follow
		# and the range of the first (no overlong forms, no surrogates).
		lo = 128; hi = 191
		if (b >= 194 && b <= 223) k = 1
		else if (b >= 224 && b <= 239) { k = 2; if (b == 224) lo = 160; if (b == 237) hi = 159 }
		else if (b >= 240 && b <= 244) { k = 3; if (b == 240) lo = 144; if (b == 244) hi = 143 }
		else k = -1
		if (k < 0 || i + k > n) { print "is not valid UTF-8"; exit 1 }
		c = ord[substr(v, i + 1, 1)]
		if (c < lo || c > hi) { print "is not valid UTF-8"; exit 1 }
		for (j = 2; j <= k; j++) if (!cont(ord[substr(v, i + j, 1)])) { print "is not valid UTF-8"; exit 1 }
		i += k
	}
}
'

# check_env_value KEY: refuses (exit 2) a value for the environment file
# that holds a newline or control character or is not UTF-8: neither
# systemd nor sh would read it back as given. The value is not printed.
check_env_value() {
	c_why=
	if [ "$(wc -l <"$tmp/set/$1" | tr -d ' ')" != 0 ]; then
		c_why="contains a newline or another control character, which is not allowed"
	else
		c_why=$(LC_ALL=C awk "$env_value_awk" "$tmp/set/$1") && c_why=
	fi
	[ -z "$c_why" ] || usage_error "--set $1: the value $c_why"
}

# check_env_file: --set env.NAME needs the chosen package to ship an
# environment file (release.json names it); refused (exit 2) before
# anything changes.
check_env_file() {
	[ -n "$env_keys" ] || return 0
	if [ -z "${a_envfile:-}" ]; then
		usage_error "--set ${env_keys%% *}: $pkg_name's $a_format package ships no environment file ([service] environment_file is off in its omnipack.toml); nothing was changed"
	fi
	is_env_path "$a_envfile" || die "release.json: environment file $(printable "$a_envfile") is not a clean path below /etc/; refusing the release"
}

# The environment file editor, as omnipack install's SetEnvFile: for each
# key env.NAME in keys, whose value is in the file dir/env.NAME, every
# active NAME=... line (one that starts a statement, not inside another's
# quoted value or after a backslash) becomes NAME="VALUE", else the line is
# appended. Values are quoted for systemd and sh alike: in double quotes,
# with \ " $ and ` escaped. A NAME=... value that goes on over more lines,
# or a file that ends inside one, is refused ("error MESSAGE", exit 1).
# shellcheck disable=SC2016 # an awk program
env_awk='
function fail(msg) { print "error " msg; failed = 1; exit 1 }
function quote(s,    out, i, c) {
	out = "\""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\\" || c == "\"" || c == "$" || c == "`") out = out "\\"
		out = out c
	}
	return out "\""
}
function readval(f,    line, s, n) {
	s = ""; n = 0
	while ((getline line < f) > 0) { s = (n++ ? s "\n" : "") line }
	close(f)
	return s
}
# scan: reads one line as sh does, from the quoting state st the previous
# line left (0 none, 1 double, 2 single quotes); true when the next line
# continues it. A # that starts a word outside quotes ends the line.
function scan(line,    i, c, n) {
	n = length(line)
	for (i = 1; i <= n; i++) {
		c = substr(line, i, 1)
		if (st == 0) {
			if (c == "#" && (i == 1 || substr(line, i - 1, 1) == " " || substr(line, i - 1, 1) == "\t")) return 0
			if (c == "\\") { if (i == n) return 1; i++ }
			else if (c == "\"") st = 1
			else if (c == sq) st = 2
		} else if (st == 1) {
			if (c == "\\") { if (i == n) return 1; i++ }
			else if (c == "\"") st = 0
		} else if (c == sq) st = 0
	}
	return st != 0
}
BEGIN {
	sq = sprintf("%c", 39)
	nk = split(keys, k, " ")
	for (i = 1; i <= nk; i++) {
		name[i] = substr(k[i], 5)
		set[i] = name[i] "=" quote(readval(dir "/" k[i]))
	}
	st = 0; more = 0
}
{
	starts = !more
	more = scan($0)
	out = $0
	if (starts) {
		for (i = 1; i <= nk; i++) {
			if (!match($0, "^[ \t]*" name[i] "=")) continue
			if (more) fail("the value of " name[i] " goes on over more than one line in the environment file; set it by hand")
			out = substr($0, 1, RLENGTH - length(name[i]) - 1) set[i]
			found[i] = 1
		}
	}
	print out
}
END {
	if (failed) exit 1
	if (more) { print "error the environment file ends inside a quoted value or with a backslash; fix it by hand first"; exit 1 }
	for (i = 1; i <= nk; i++) if (!found[i]) print set[i]
}
'

# apply_env_settings: writes the env.NAME values into the chosen package's
# environment file (release.json's path; mode 0640, root:GROUP) when they
# change it, and sets config_changed then, so the service restarts; a dry
# run prints the plan line omnipack install prints.
apply_env_settings() {
	[ -n "$env_keys" ] || return 0
	e_names=$(for e_k in $env_keys; do printf '%s\n' "${e_k#env.}"; done | LC_ALL=C sort -u | tr '\n' ' ')
	# The names are words of letters, digits and _.
	# shellcheck disable=SC2086
	plan_line set-env "$a_envfile" $e_names
	e_path=$root_prefix$a_envfile
	e_src=$e_path
	if [ ! -e "$e_path" ]; then
		e_src=/dev/null
	elif [ ! -f "$e_path" ] || [ ! -r "$e_path" ]; then
		die "$a_envfile is not a readable file: cannot set $env_keys"
	fi
	if ! LC_ALL=C awk -v keys="$env_keys" -v dir="$tmp/set" "$env_awk" "$e_src" >"$tmp/env.new"; then
		die "could not edit $a_envfile: $(sed -n 's/^error //p' "$tmp/env.new" | head -n 1)"
	fi
	if [ "$e_src" != /dev/null ] && cmp -s "$tmp/env.new" "$e_path"; then
		say "$a_envfile already has $env_summary"
		return 0
	fi
	config_changed=yes
	if [ "$opt_dry_run" = yes ]; then
		printf '  would set: %s in %s (mode 0640, root:%s)\n' "$env_summary" "$a_envfile" "$env_group"
		return 0
	fi
	# e_path: a_envfile itself, as --root goes only with --dry-run.
	replace_private_file "$tmp/env.new" "$e_path" "$env_group"
	say "set $env_summary in $a_envfile"
}

# service_init: sets svc_init to the init system to drive the service
# through, as omnipack install chooses it: none when no init runs here;
# else the init the package's scripts recorded, else the running one.
service_init() {
	svc_init=
	if ! init_text "$detect_init" status; then
		return 0
	fi
	svc_init=$detect_init
	s_i=
	if [ -f "$root_prefix$record_dir/$pkg_name.init" ]; then
		IFS= read -r s_i <"$root_prefix$record_dir/$pkg_name.init" || :
	fi
	if [ -n "$s_i" ] && init_text "$s_i" status; then
		svc_init=$s_i
	fi
}

# service_phase: after the install and the config: stops the service for
# --no-start, restarts it when the config changed, and waits until healthy.
service_phase() {
	service_init
	if [ -z "$svc_init" ]; then
		if [ "$opt_dry_run" = yes ]; then
			say "no init system is running here (container: $detect_container): nothing would be started"
		else
			say "no init system is running here (container: $detect_container): $pkg_name is installed and set up for the init this system boots, if any; nothing was started"
		fi
		return 0
	fi
	if [ "$opt_no_start" = yes ]; then
		init_text "$svc_init" stop
		s_stop=$init_cmd
		init_text "$svc_init" start
		if [ "$opt_dry_run" = yes ]; then
			printf '  would run: %s (--no-start: the package starts the service when it is installed)\n' "$s_stop"
			return 0
		fi
		printf '+ %s\n' "$s_stop"
		init_do "$svc_init" stop || warn "could not stop the service: $(head -n 3 "$tmp/init.out")"
		say "left the service stopped (--no-start); start it with: $init_cmd"
		return 0
	fi
	if [ "$opt_dry_run" = yes ] && [ "$action" != none ]; then
		init_text "$svc_init" start
		printf '  (the package'"'"'s own scripts enable the service and start it: %s)\n' "$init_cmd"
	fi
	if [ "$config_changed" = yes ]; then
		init_text "$svc_init" restart
		if [ "$opt_dry_run" = yes ]; then
			printf '  would run: %s\n' "$init_cmd"
		else
			printf '+ %s\n' "$init_cmd"
			init_do "$svc_init" restart || {
				cat "$tmp/init.out"
				warn "restarting the service through $svc_init failed"
			}
		fi
	fi
	wait_healthy
}

# wait_healthy: waits up to 30 s until the init reports the service running,
# then requires it to stay running, and the same process, for
# health_seconds, and then the release's health command to pass.
# Unhealthy: prints the last log lines and exits 1.
wait_healthy() {
	init_text "$svc_init" status
	if [ "$opt_dry_run" = yes ]; then
		printf '  would wait until healthy: %s succeeds and the service stays up for %s s\n' "$init_cmd" "$health_seconds"
		if [ -s "$tmp/health_command" ]; then
			printf '  then would run the health command: %s\n' "$(health_text)"
		fi
		return 0
	fi
	say "waiting until the service is healthy ($init_cmd, then $health_seconds s up)"
	w_i=0
	until init_run "$svc_init" status >/dev/null 2>&1 </dev/null; do
		w_i=$((w_i + 1))
		if [ "$w_i" -ge 30 ]; then
			unhealthy "the service did not start within 30 s"
		fi
		sleep 1
	done
	w_pids=$(service_pids)
	w_i=0
	while [ "$w_i" -lt "$health_seconds" ]; do
		sleep 1
		w_i=$((w_i + 1))
		init_run "$svc_init" status >/dev/null 2>&1 </dev/null || unhealthy "the service stopped $w_i s after it started"
	done
	if [ -n "$w_pids" ] && [ "$(service_pids)" != "$w_pids" ]; then
		unhealthy "the service restarted during the health check (pid $w_pids, now $(service_pids))"
	fi
	if [ -s "$tmp/health_command" ]; then
		printf '+ %s\n' "$(health_text)"
		if ! run_health; then
			cat "$tmp/health.out" >&2
			unhealthy "the health command ($(health_text)) exited with status $h_status"
		fi
	fi
	say "healthy: $pkg_name runs under $svc_init${w_pids:+ (pid $w_pids)} and stayed up for $health_seconds s${health_words:+; its health command passed}"
}

# run_health: runs the health command the signed release.json names (one
# word a line in $tmp/health_command), for at most health_timeout seconds
# where timeout(1) is installed, with its output in $tmp/health.out; sets
# h_status.
run_health() {
	set --
	while IFS= read -r h_w; do
		set -- "$@" "$h_w"
	done <"$tmp/health_command"
	health_words=$#
	if have timeout; then
		set -- timeout "$health_timeout" "$@"
	fi
	h_status=0
	(umask 022 && "$@" </dev/null >"$tmp/health.out" 2>&1 9>&-) || h_status=$?
	return "$h_status"
}

# health_text: the health command as one line, for messages.
health_text() {
	printable "$(tr '\n' ' ' <"$tmp/health_command" | sed 's/ $//')"
}

# service_pids: the PIDs of processes named exec_name (comm is at most 15
# characters), or nothing where pgrep is missing.
service_pids() {
	if [ "${#exec_name}" -le 15 ] && have pgrep; then
		pgrep -x "$exec_name" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'
	fi
}

# unhealthy MSG: prints the service's last log lines and exits 1.
unhealthy() {
	printf '%s: error: %s\n' "$pkg_name" "$1" >&2
	show_logs >&2
	printf '%s: check it with: %s\n' "$pkg_name" "$(status_hint)" >&2
	exit 1
}

# status_hint: the command an admin runs to see the service's state.
status_hint() {
	init_hint "$svc_init" || {
		init_text "$svc_init" status
		printf '%s\n' "$init_cmd"
	}
}

# show_logs: the service's last log lines: from the log its init keeps,
# else from the system log (init_log; omnipack install shows the same).
show_logs() {
	printf '%s: last log lines of %s (%s):\n' "$pkg_name" "$pkg_name" "$svc_init"
	init_log "$svc_init" && return 0
	printf '%s keeps no log of its own for %s here: see the system log (syslog), or run %s in the foreground\n' \
		"$svc_init" "$pkg_name" "/usr/bin/$exec_name"
}

# describe_host: one line of what was detected.
describe_host() {
	say "host: $detect_distro_id${detect_distro_version:+ $detect_distro_version}${detect_distro_like:+ (like $detect_distro_like)}, $detect_arch/$detect_libc, package manager $detect_package_manager ($detect_package_format), init $detect_init, container $detect_container, privilege $detect_privilege"
}

# install_main: the install and upgrade flow.
install_main() {
	detect_all "$opt_root" || die "could not detect $(printable "$opt_root")"
	describe_host
	collect_settings
	if [ -z "$opt_offline" ]; then
		choose_downloader
	else
		[ -f "$opt_offline/release.json" ] || die "$(printable "$opt_offline") holds no release.json: --offline needs a copy of the release directory"
	fi
	choose_verifier
	fetch_small release.json "$manifest_max"
	verify_manifest
	parse_manifest
	check_manifest
	choose_artifact
	check_env_file
	plan
	if [ "$action" = none ]; then
		say "$pkg_name $m_version-$m_release is already installed ($rec_artifact, release_version ${rec_release_version:-unknown})"
		apply_settings
		apply_env_settings
		if [ "$config_changed" = yes ]; then
			service_phase
			plan_summary
			return 0
		fi
		service_init
		if [ -n "$svc_init" ] && [ "$opt_no_start" != yes ] && ! init_run "$svc_init" status >/dev/null 2>&1 </dev/null; then
			init_text "$svc_init" start
			if [ "$opt_dry_run" = yes ]; then
				say "the service is not running"
				printf '  would run: %s\n' "$init_cmd"
				wait_healthy
				plan_summary
				return 0
			fi
			say "the service is not running; starting it"
			printf '+ %s\n' "$init_cmd"
			init_do "$svc_init" start || {
				cat "$tmp/init.out"
				warn "starting the service through $svc_init failed"
			}
			wait_healthy
			return 0
		fi
		say "nothing to do"
		plan_summary
		return 0
	fi
	fetch_artifact
	prepare_artifact
	s_from=
	[ -z "$rec_version" ] || s_from=" (installed: $rec_version-$rec_release)"
	case $action in
	install) s_what="install $pkg_name $m_version-$m_release" s_doing="installing $pkg_name $m_version-$m_release" ;;
	reinstall) s_what="reinstall $pkg_name $m_version-$m_release" s_doing="reinstalling $pkg_name $m_version-$m_release" ;;
	upgrade) s_what="upgrade $pkg_name to $m_version-$m_release$s_from" s_doing="upgrading $pkg_name to $m_version-$m_release$s_from" ;;
	downgrade) s_what="downgrade $pkg_name to $m_version-$m_release$s_from" s_doing="downgrading $pkg_name to $m_version-$m_release$s_from" ;;
	esac
	s_with="with $detect_package_manager"
	[ "$a_format" != "$unpacked_format" ] || s_with="from the release $unpacked_format"
	if [ "$opt_dry_run" = yes ]; then
		say "dry run: would $s_what $s_with; nothing is changed:"
	else
		confirm "$s_what?"
		say "$s_doing $s_with"
	fi
	install_artifact
	record_and_configure
	if [ "$opt_dry_run" = yes ]; then
		plan_summary
		say "dry run done: every check passed; nothing was changed"
	else
		say "done: $pkg_name $m_version-$m_release is installed"
	fi
}

# install_repo_main: --method repo. Adds the release's repository to the
# host's package manager, trusting the OpenPGP key built into this script
# for that repository alone, and installs or upgrades the package from it,
# so that later versions arrive with the host's other upgrades. The package
# manager's check of the repository's signature stands in for
# release.json's: a repository that does not verify is refused, and the
# repository files this run added are removed again.
install_repo_main() {
	detect_all "$opt_root" || die "could not detect $(printable "$opt_root")"
	describe_host
	collect_settings
	a_format=$detect_package_format
	case " $package_formats " in
	*" $a_format "*) ;;
	*) die "package format $(printable "$a_format") is not one omnipack installs; --method repo needs a host whose package manager omnipack publishes a repository for" ;;
	esac
	if ! r_pm=$(repo_manager "$a_format"); then
		r_have=
		for r_f in $package_formats; do
			r_m=$(repo_manager "$r_f") && r_have="$r_have $r_m"
		done
		die "--method repo: this installer adds repositories for${r_have:- no package manager}, not for $detect_package_manager; use --method package"
	fi
	[ "$detect_package_manager" = "$r_pm" ] ||
		die "--method repo installs with $r_pm, but this host's package manager is $detect_package_manager; use --method package"
	r_tool=$(repo_tool "$a_format")
	if ! have "$r_tool"; then
		[ "$opt_dry_run" = yes ] || die "$r_tool is not installed"
		say "dry run: $r_tool is not installed here; the install would need it"
	fi
	a_envfile=$(pkg_envfile "$a_format") || a_envfile=
	check_env_file
	if [ -n "$health_command_built" ]; then
		printf '%s\n' "$health_command_built" >"$tmp/health_command" || die "could not write $tmp/health_command"
	fi
	read_record
	action=install
	[ "$(pkg_state "$a_format")" != installed ] || action=upgrade
	op=$action a_name=$(pkg_package "$a_format") a_sha256=
	repo_prepare
	if [ "$opt_dry_run" = yes ]; then
		say "dry run: would add the repository $repo_url (channel $repo_channel) and $action $pkg_name from it with $r_pm; nothing is changed:"
	else
		confirm "add the repository $repo_url and $action $pkg_name from it?"
		r_doing=installing
		[ "$action" = install ] || r_doing=upgrading
		say "adding the repository $repo_url (channel $repo_channel) and $r_doing $pkg_name from it with $r_pm"
	fi
	repo_add
	r_scratch=$tmp/repo.check
	mkdir -p "$r_scratch/partial" || die "could not create $r_scratch"
	if ! repo_run "$a_format" check </dev/null || ! repo_run "$a_format" refresh </dev/null; then
		repo_restore
		die "$r_pm refused the repository at $repo_url (channel $repo_channel), or could not reach it (see its output above): its metadata must verify with the key built into this installer; nothing was installed, and the host is as it was"
	fi
	if ! repo_run "$a_format" install </dev/null; then
		repo_restore
		die "$r_pm could not $action $pkg_name from the repository (see its output above); the repository files this run added were removed again"
	fi
	if [ "$opt_dry_run" != yes ]; then
		if [ "$(pkg_state "$a_format")" != installed ]; then
			repo_restore
			die "$pkg_name was not installed from the repository (see the output above)"
		fi
		m_version=$(repo_run "$a_format" version) || m_version=
		is_word "$m_version" || die "$r_pm installed $pkg_name, but its version cannot be read"
	fi
	m_release='' m_release_version=0
	record_and_configure
	if [ "$opt_dry_run" = yes ]; then
		plan_summary
		say "dry run done: nothing was changed"
	else
		say "done: $pkg_name $m_version is installed from $repo_url; later versions arrive with the host's $r_pm upgrades"
	fi
}

# repo_prepare: writes the repository's key (the OpenPGP key built into
# this installer) and source file into the temporary directory, and keeps
# copies of the host's current ones for repo_restore.
repo_prepare() {
	r_keyring=$(repo_keyring "$a_format")
	r_source=$(repo_source "$a_format")
	write_pgp_keyring "$tmp/repo.keyring"
	repo_print_source "$a_format" >"$tmp/repo.source" || die "could not write the repository's source file"
	mkdir "$tmp/repo.prev" || die "could not create $tmp/repo.prev"
	for r_f in "$r_keyring" "$r_source"; do
		if [ -f "$root_prefix$r_f" ]; then
			cp -p "$root_prefix$r_f" "$tmp/repo.prev/${r_f##*/}" || die "could not copy $r_f"
		fi
	done
}

# repo_add: puts the key and the source file in place, each written beside
# its place and renamed (0644: the package manager reads them unprivileged).
repo_add() {
	for r_pair in "$tmp/repo.keyring:$r_keyring" "$tmp/repo.source:$r_source"; do
		r_from=${r_pair%%:*} r_to=${r_pair#*:}
		if [ "$opt_dry_run" = yes ]; then
			if [ -f "$root_prefix$r_to" ] && cmp -s "$r_from" "$root_prefix$r_to"; then
				printf '  %s is in place\n' "$r_to"
			else
				printf '  would write: %s\n' "$r_to"
			fi
			continue
		fi
		if [ -f "$r_to" ] && cmp -s "$r_from" "$r_to"; then
			continue
		fi
		(umask 022 && mkdir -p "${r_to%/*}" && cp "$r_from" "$r_to.omnipack-new" && chmod 0644 "$r_to.omnipack-new" &&
			mv -f "$r_to.omnipack-new" "$r_to") || {
			rm -f "$r_to.omnipack-new"
			repo_restore
			die "could not write $r_to"
		}
		say "wrote $r_to"
	done
}

# repo_restore: puts back the key and source file the host had before this
# run, deleting those it did not have.
repo_restore() {
	[ "$opt_dry_run" != yes ] || return 0
	for r_f in "$r_keyring" "$r_source"; do
		if [ -f "$tmp/repo.prev/${r_f##*/}" ]; then
			cp -p "$tmp/repo.prev/${r_f##*/}" "$r_f" || warn "could not restore $r_f"
		elif [ -e "$r_f" ]; then
			if rm -f "$r_f"; then
				say "removed $r_f again"
			else
				warn "could not delete $r_f"
			fi
		fi
	done
}

# repo_remove: on --uninstall of a --method repo install, deletes the
# repository's key and source file, so that the package manager no longer
# fetches it.
repo_remove() {
	[ "$rec_method" = repo ] || return 0
	r_keyring=$(repo_keyring "${u_format:-$rec_format}") || return 0
	r_source=$(repo_source "${u_format:-$rec_format}") || return 0
	for r_f in "$r_source" "$r_keyring"; do
		[ -e "$r_f" ] || continue
		run rm -f "$r_f" || warn "could not delete $r_f"
	done
}

# record_and_configure: after the package is in place, records it, writes
# the config and environment values, and (re)starts and checks the service.
record_and_configure() {
	write_record
	apply_settings
	apply_env_settings
	service_phase
}

# plan_summary: with --dry-run, the plan's decisions as one line, as
# omnipack install --dry-run prints them.
plan_summary() {
	[ "$opt_dry_run" = yes ] || return 0
	service_init
	p_pm=$detect_package_manager
	[ "$a_format" != "$unpacked_format" ] || p_pm=none
	printf 'plan: action=%s artifact=%s format=%s package_manager=%s init=%s\n' \
		"$action" "$a_name" "$a_format" "$p_pm" "${svc_init:-none}"
}

# uninstall_main: --uninstall [--purge].
uninstall_main() {
	detect_all "$opt_root" || die "could not detect $(printable "$opt_root")"
	describe_host
	read_record
	u_format=$rec_format
	if [ -z "$u_format" ] || [ "$(pkg_state "$u_format")" = absent ]; then
		u_format=
		for u_f in "$detect_package_format" "$unpacked_format"; do
			case " $package_formats " in
			*" $u_f "*) ;;
			*) continue ;;
			esac
			if [ "$(pkg_state "$u_f")" != absent ]; then
				u_format=$u_f
				break
			fi
		done
	fi
	u_state=absent
	[ -z "$u_format" ] || u_state=$(pkg_state "$u_format")
	if [ "$u_state" = absent ] && [ "$opt_purge" != yes ]; then
		say "$pkg_name is not installed; nothing to remove"
		return 0
	fi
	if [ "$opt_purge" = yes ]; then
		confirm "remove $pkg_name and delete its config, state and accounts?"
	else
		confirm "remove $pkg_name (its config is kept)?"
	fi
	[ "$opt_dry_run" != yes ] || say "dry run: nothing is changed:"
	if [ "$u_state" != absent ] && [ "$u_format" = "$unpacked_format" ]; then
		tarball_uninstall
	elif [ "$u_state" = installed ] || { [ "$u_state" = config ] && [ "$opt_purge" = yes ]; }; then
		u_op=remove
		[ "$opt_purge" != yes ] || u_op=purge
		pkg_run "$u_format" "$detect_package_manager" "$u_op"
		case $? in
		0) ;;
		2) die "$detect_package_manager cannot remove a $u_format package; remove $pkg_name with the tool that installed it" ;;
		*) die "removing $pkg_name failed (see the output above)" ;;
		esac
	fi
	repo_remove
	if [ "$opt_purge" = yes ]; then
		purge_leftovers
		if [ "$opt_dry_run" = yes ]; then
			say "dry run done: nothing was changed"
		else
			say "removed $pkg_name and deleted its config, state, accounts and records"
		fi
	elif [ "$opt_dry_run" = yes ]; then
		say "dry run done: nothing was changed"
	else
		say "removed $pkg_name; its config in /etc/$pkg_name and the record $record_dir/$pkg_name.release are kept (--purge deletes them)"
	fi
}

# tarball_uninstall: runs the installed tarball's preremove (stop, disable,
# delete the service files), deletes the files its list names (config
# files only with --purge) and its now empty directories under
# /usr/lib/NAME, then postremove.
tarball_uninstall() {
	t_list=$tarball_files
	t_scripts=$tarball_scripts
	cp "$t_list" "$tmp/tarball.files" || die "could not read $t_list"
	if [ -f "$t_scripts/postremove" ]; then
		cp "$t_scripts/postremove" "$tmp/postremove" || die "could not read $t_scripts/postremove"
	fi
	if [ -f "$t_scripts/preremove" ]; then
		pkg_exec /bin/sh "$t_scripts/preremove" || die "the tarball's preremove script failed"
	fi
	[ "$opt_dry_run" = yes ] || printf '+ delete the files listed in %s\n' "$t_list"
	while IFS= read -r t_p; do
		is_abs_path "$t_p" || continue
		case $t_p in
		"/etc/$pkg_name/"*) [ "$opt_purge" = yes ] || continue ;;
		esac
		if [ "$opt_dry_run" = yes ]; then
			printf '  would delete: %s\n' "$t_p"
		else
			rm -f "$t_p" || warn "could not delete $t_p"
		fi
	done <"$tmp/tarball.files"
	[ "$opt_dry_run" != yes ] || return 0
	t_lib=${tarball_files%/*}
	sed -n "s|^\\($t_lib/.*\\)/[^/]*\$|\\1|p" "$tmp/tarball.files" | LC_ALL=C sort -ru >"$tmp/tarball.dirs"
	while IFS= read -r t_d; do
		while [ "$t_d" != "$t_lib" ] && [ "${t_d#"$t_lib"/}" != "$t_d" ]; do
			rmdir "$t_d" 2>/dev/null || break
			t_d=${t_d%/*}
		done
	done <"$tmp/tarball.dirs"
	rmdir "$t_lib" 2>/dev/null || :
	if [ -f "$tmp/postremove" ]; then
		run /bin/sh "$tmp/postremove" || warn "the tarball's postremove script failed"
	fi
}

# purge_leftovers: what --purge deletes beyond the package: the config, state
# and log directories, the accounts the package noted creating in
# NAME.accounts, and the records. A deb purge has done most of it already.
purge_leftovers() {
	for p_d in "/etc/$pkg_name" "/var/lib/$pkg_name" "/var/log/$pkg_name"; do
		if [ -e "$p_d" ]; then
			run rm -rf "$p_d" || warn "could not delete $p_d"
		fi
	done
	purge_created
	p_acc=$record_dir/$pkg_name.accounts
	if [ -f "$p_acc" ]; then
		for p_kind in user group; do
			while read -r p_k p_n; do
				[ "$p_k" = "$p_kind" ] || continue
				case $p_n in
				'' | *[!abcdefghijklmnopqrstuvwxyz0123456789_-]*) continue ;;
				esac
				if [ "$p_kind" = user ]; then
					user_exists "$p_n" || continue
					if have userdel; then run userdel "$p_n"; else run deluser "$p_n"; fi || warn "could not delete the user $p_n"
				else
					group_exists "$p_n" || continue
					if have groupdel; then run groupdel "$p_n"; else run delgroup "$p_n"; fi || warn "could not delete the group $p_n"
				fi
			done <"$p_acc"
		done
	fi
	for p_f in "$p_acc" "$record_dir/$pkg_name.init" "$record_dir/$pkg_name.release"; do
		if [ -e "$p_f" ]; then
			run rm -f "$p_f" || warn "could not delete $p_f"
		fi
	done
	[ "$opt_dry_run" = yes ] || rmdir "$record_dir" 2>/dev/null || :
}

# purge_created: deletes what the package's scripts noted they created in
# $purge_list, as the package's own purge does where the package manager
# has one: the last created first; a tree with its contents and a file
# with the copies package managers keep of it, both only below a directory
# named after the program; another directory only when empty.
purge_created() {
	[ -f "$purge_list" ] || return 0
	p_lines=$(sed -n '1!G;h;$p' "$purge_list")
	while read -r p_kind p_path; do
		is_abs_path "$p_path" || continue
		case $p_kind/$p_path in
		tree/*/"$pkg_name" | tree/*/"$pkg_name"/*)
			[ ! -e "$p_path" ] || run rm -rf "$p_path" || warn "could not delete $p_path"
			;;
		file/*/"$pkg_name" | file/*/"$pkg_name"/*)
			for p_f in "$p_path" $(for p_s in $kept_copies; do printf '%s\n' "$p_path$p_s"; done); do
				[ ! -e "$p_f" ] || run rm -f "$p_f" || warn "could not delete $p_f"
			done
			;;
		empty/*)
			[ -d "$p_path" ] || continue
			if [ "$opt_dry_run" = yes ]; then
				printf '  would delete: %s if it is empty\n' "$p_path"
			else
				rmdir "$p_path" 2>/dev/null || say "kept $p_path: it is not empty"
			fi
			;;
		esac
	done <<EOF
$p_lines
EOF
	run rm -f "$purge_list" || warn "could not delete $purge_list"
}

# cleanup: the exit trap: removes the temporary directory and a lock
# directory this run holds.
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ -n "${lock_dir:-}" ]; then
		rm -rf "$lock_dir"
	fi
	if [ -n "${tmp:-}" ] && [ -d "$tmp" ]; then
		rm -rf "$tmp"
	fi
}

# check_options: options that do not go together, root, and the base URL,
# all before any network access.
check_options() {
	if [ "$opt_purge" = yes ] && [ "$opt_uninstall" != yes ]; then
		usage_error "--purge goes with --uninstall"
	fi
	if [ "$opt_uninstall" = yes ]; then
		# A user who needed --base-url (or a key) to install passes it
		# again to remove: accept what only installing uses, and say so.
		c_ignored=
		[ -z "$arg_keys$pos_keys" ] || c_ignored="$c_ignored config values,"
		[ -z "$opt_offline" ] || c_ignored="$c_ignored --offline,"
		[ -z "$opt_version" ] || c_ignored="$c_ignored --version,"
		[ "$opt_base_url_given" != yes ] || c_ignored="$c_ignored --base-url,"
		[ "$opt_no_start$opt_reinstall$opt_allow_downgrade" = nonono ] || c_ignored="$c_ignored --no-start/--reinstall/--allow-downgrade,"
		[ "$opt_method$opt_repo_url$opt_channel" = package ] || c_ignored="$c_ignored --method/--repo-url/--channel (the record says how it was installed),"
		if [ -n "$c_ignored" ]; then
			say "note: removing; ignoring what only installing uses:${c_ignored%,}"
		fi
		arg_keys='' pos_keys='' opt_offline='' opt_version='' opt_base_url_given=no
	fi
	if [ "$opt_root" != / ]; then
		[ "$opt_dry_run" = yes ] || usage_error "--root goes with --dry-run or --detect-only: this installer changes only the host it runs on"
		[ -d "$opt_root" ] || usage_error "--root: $(printable "$opt_root") is not a directory"
		opt_root=$(CDPATH='' cd -- "$opt_root" && pwd -P) || usage_error "--root: cannot enter the directory"
		[ "$opt_root" = / ] || root_prefix=$opt_root
	fi
	if [ "$opt_dry_run" != yes ] && [ "$(id -u 2>/dev/null)" != 0 ]; then
		die "installing needs root: run it as root, e.g. curl -fsSL ${default_base_url:-BASE_URL}/install.sh | sudo sh -s -- ... (--dry-run works without)"
	fi
	if [ "$opt_uninstall" = yes ]; then
		return 0
	fi
	if [ "$opt_method" = repo ]; then
		check_repo_options
		return 0
	fi
	[ -z "$opt_repo_url$opt_channel" ] || usage_error "--repo-url and --channel go with --method repo"
	if [ -n "$opt_offline" ]; then
		[ "$opt_base_url_given" != yes ] || usage_error "--offline and --base-url do not go together"
		[ -d "$opt_offline" ] || usage_error "--offline: $(printable "$opt_offline") is not a directory"
		opt_offline=$(CDPATH='' cd -- "$opt_offline" && pwd -P) || usage_error "--offline: cannot enter the directory"
		if [ -n "$opt_version" ]; then
			say "--offline: using the release in $opt_offline, which must be version $opt_version"
		fi
		return 0
	fi
	check_base_url
}

# check_repo_options: --method repo takes its versions from the repository,
# and its trust from the package manager's check of the repository's
# signature: what only a release.json install uses is refused.
check_repo_options() {
	for c_o in "--offline:$opt_offline" "--version:$opt_version" "--base-url:${opt_base_url_given#no}" \
		"--allow-downgrade:${opt_allow_downgrade#no}" "--reinstall:${opt_reinstall#no}" \
		"--insecure-skip-verify:${opt_insecure_skip_verify#no}"; do
		[ -z "${c_o#*:}" ] ||
			usage_error "${c_o%%:*} does not go with --method repo: the repository's newest version in the channel is installed, and the package manager checks the repository's signature (use --method package for ${c_o%%:*})"
	done
	repo_url=${opt_repo_url:-$default_repo_url}
	[ -n "$repo_url" ] || usage_error "--method repo: no repository URL is built in: pass --repo-url URL (where omnipack publish's repository is served)"
	check_url "repository URL" "$repo_url"
	repo_url=$c_url
	repo_channel=${opt_channel:-stable}
}

# take_lock: one installer at a time on this host (cloud-init and a cron
# job can start two at once): flock(1) on a lock file in /run,
# or, without flock, a lock directory holding the owner's pid, broken when
# that process is gone. It waits up to lock_wait seconds; the run that
# waited then finds the other's work done, or does it.
take_lock() {
	[ "$opt_dry_run" != yes ] || return 0
	l_file=$lock_file
	(umask 022 && mkdir -p "${l_file%/*}") || die "could not create ${l_file%/*}"
	l_waited=0
	if have flock; then
		exec 9>>"$l_file" || die "could not open $l_file"
		until flock -n 9; do
			lock_wait_step "$l_file"
		done
		return 0
	fi
	until mkdir "$l_file.d" 2>/dev/null; do
		l_pid=
		[ ! -f "$l_file.d/pid" ] || IFS= read -r l_pid <"$l_file.d/pid" || :
		if is_digits "${l_pid:-}" && ! kill -0 "$l_pid" 2>/dev/null; then
			rm -rf "$l_file.d"
			continue
		fi
		lock_wait_step "$l_file"
	done
	lock_dir=$l_file.d
	printf '%s\n' "$$" >"$lock_dir/pid" || die "could not write $lock_dir/pid"
}

# lock_wait_step LOCK: one second of waiting for another installer.
lock_wait_step() {
	[ "$l_waited" -gt 0 ] || say "another installer of $pkg_name is running; waiting for it (up to $lock_wait s)"
	l_waited=$((l_waited + 1))
	[ "$l_waited" -le "$lock_wait" ] || die "another installer of $pkg_name has held $1 for $lock_wait s; try again when it is done"
	sleep 1
}

# main ARG...: the installer. --detect-only runs detect.sh's own main.
main() {
	for m_a in "$@"; do
		case $m_a in
		--detect-only)
			detect_only_main "$@"
			exit
			;;
		esac
	done
	umask 077
	init_options
	tmp=
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	tmp=$(mktemp -d 2>/dev/null) || tmp=
	if [ -z "$tmp" ] || [ ! -d "$tmp" ]; then
		die "could not create a private temporary directory"
	fi
	mkdir "$tmp/arg" "$tmp/pos" "$tmp/set" || die "could not create directories in $tmp"
	parse_args "$@"
	[ "$opt_dry_run" != yes ] || say "dry run: nothing on this host is changed"
	check_options
	take_lock
	if [ "$opt_uninstall" = yes ]; then
		uninstall_main
	elif [ "$opt_method" = repo ]; then
		install_repo_main
	else
		install_main
	fi
	exit 0
}
