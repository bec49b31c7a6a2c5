#!/bin/sh
# detect-only.sh [--root DIR]: prints what install.sh would detect on this
# host, or in the file system tree at DIR, and changes nothing. A test driver
# for detect.sh until install.sh takes --detect-only itself; it runs under
# set -eu, as install.sh will.
set -eu
detect_sh=$(dirname "$0")/detect.sh
# detect.sh is checked on its own.
# shellcheck source=/dev/null
. "$detect_sh"
detect_only_main "$@"
