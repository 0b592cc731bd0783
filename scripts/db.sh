#!/bin/sh
# A private MariaDB server under one directory: no system service is touched.
#
#   db.sh init DIR        create DIR/data with mariadb-install-db (once)
#   db.sh start DIR       start mariadbd on the unix socket DIR/mysql.sock (no TCP); waits until ready
#   db.sh stop DIR        shut it down and wait for it to exit
#   db.sh status DIR      exit 0 when running
#   db.sh sql DIR [ARGS]  the mariadb client as the server's superuser (socket authentication)
#   db.sh bootstrap DIR DB APP_USER APP_PASSFILE ADMIN_USER ADMIN_PASSFILE
#                         create the database, the migration owner (all privileges on DB, with
#                         grant option) and the application user (no privileges yet: the
#                         migration runner grants them table by table). Idempotent; passwords
#                         are read from the files, never from the command line.
set -eu

cmd=${1:?usage: db.sh init|start|stop|status|sql|bootstrap DIR ...}
dir=${2:?db.sh: missing DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
sock=$dir/mysql.sock
pidf=$dir/mariadb.pid
errlog=$dir/mariadb.err

if [ "$(id -u)" -eq 0 ]; then super=root; else super=$(id -un); fi

bin() {
	for b in "$@"; do
		for d in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do
			[ -x "$d/$b" ] && { echo "$d/$b"; return 0; }
		done
	done
	echo "db.sh: none of $* found; run ./scripts/deps.sh" >&2
	return 1
}

running() {
	[ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null
}

client() {
	"$(bin mariadb mysql)" --no-defaults --socket="$sock" -u "$super" "$@"
}

case $cmd in
init)
	[ -d "$dir/data/mysql" ] && exit 0
	mkdir -p "$dir/data"
	user_opt=""
	[ "$super" = root ] && user_opt="--user=root"
	# shellcheck disable=SC2086
	if ! "$(bin mariadb-install-db mysql_install_db)" --no-defaults --datadir="$dir/data" \
		--auth-root-authentication-method=socket --skip-test-db $user_opt \
		>"$dir/install.log" 2>&1; then
		echo "db.sh: mariadb-install-db failed; see $dir/install.log" >&2
		tail -n 20 "$dir/install.log" >&2
		exit 1
	fi
	;;
start)
	running && exit 0
	[ -d "$dir/data/mysql" ] || "$0" init "$dir"
	rm -f "$sock"
	user_opt=""
	[ "$super" = root ] && user_opt="--user=root"
	# shellcheck disable=SC2086
	"$(bin mariadbd mysqld)" --no-defaults --datadir="$dir/data" --socket="$sock" \
		--pid-file="$pidf" --log-error="$errlog" --skip-networking $user_opt \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
		--default-time-zone=+00:00 --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 \
		--max-connections=300 --skip-name-resolve </dev/null >/dev/null 2>&1 &
	i=0
	while ! client -e 'SELECT 1' >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 300 ]; then
			echo "db.sh: mariadbd did not become ready in 30 s; see $errlog" >&2
			tail -n 20 "$errlog" >&2
			exit 1
		fi
		sleep 0.1
	done
	;;
stop)
	running || { rm -f "$pidf"; exit 0; }
	pid=$(cat "$pidf")
	kill -TERM "$pid" 2>/dev/null || true
	i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 600 ] && { kill -KILL "$pid" 2>/dev/null || true; break; }
		sleep 0.1
	done
	rm -f "$pidf"
	;;
status)
	running
	;;
sql)
	shift 2
	client "$@"
	;;
bootstrap)
	db=${3:?} app=${4:?} appf=${5:?} admin=${6:?} adminf=${7:?}
	for n in "$db" "$app" "$admin"; do
		case $n in *[!A-Za-z0-9_]*) echo "db.sh: bad name '$n'" >&2; exit 1 ;; esac
	done
	# Passwords go through the client's stdin, never argv. Quotes are escaped for SQL.
	esc() { sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/\\\\'/g" "$1" | tr -d '\n'; }
	{
		echo "CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
		echo "CREATE USER IF NOT EXISTS '$admin'@'localhost' IDENTIFIED BY '$(esc "$adminf")';"
		echo "ALTER USER '$admin'@'localhost' IDENTIFIED BY '$(esc "$adminf")';"
		echo "GRANT ALL PRIVILEGES ON \`$db\`.* TO '$admin'@'localhost' WITH GRANT OPTION;"
		echo "CREATE USER IF NOT EXISTS '$app'@'localhost' IDENTIFIED BY '$(esc "$appf")';"
		echo "ALTER USER '$app'@'localhost' IDENTIFIED BY '$(esc "$appf")';"
	} | client
	;;
*)
	echo "db.sh: unknown command $cmd" >&2
	exit 2
	;;
esac
