# need.sh - sourced by test suites: install what a test needs, once.
#
#   need CMD PACKAGE   make CMD available, installing PACKAGE with apt-get
#                      when CMD is missing; returns 1 if it stays missing
#   need_pkg PACKAGE   install PACKAGE unless dpkg says it is installed
#
# CI starts from a fresh Debian with gcc and make only, as root; on a
# developer's machine everything is usually there and nothing runs.
# apt-get update runs at most once per suite, and only when something
# must be installed.  Not root, or no apt-get: nothing is installed, and
# the caller skips what needs it.

need_updated=

need_pkg() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed' &&
		return 0
	[ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null || return 1
	case $1 in
	postgresql*)
		# The package would make and start a "main" cluster of its
		# own (with a kernel SysV segment); tests make their own.
		if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
			mkdir -p /etc/postgresql-common &&
			echo 'create_main_cluster = false' \
				> /etc/postgresql-common/createcluster.conf
		fi
		;;
	esac
	if [ -z "$need_updated" ]; then
		echo "# apt-get update (to install $1)"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq > /dev/null 2>&1
		need_updated=1
	fi
	echo "# apt-get install $1"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "$1" > /dev/null 2>&1
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

need() {
	command -v "$1" > /dev/null 2>&1 && return 0
	need_pkg "$2" || true
	command -v "$1" > /dev/null 2>&1
}
