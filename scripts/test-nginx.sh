#!/bin/sh
# `nginx -t` on both nginx configurations: the dev/test template as stack.sh renders it, and
# the production site inside a copy of Debian's /etc/nginx layout, with a throw-away
# self-signed certificate standing in for certbot's. Prints "nginx: N passed, N failed".
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

check() { # name, nginx args...
	name=$1
	shift
	if out=$("$NGINX" "$@" 2>&1); then
		passed=$((passed + 1))
		echo "  nginx -t $name: ok"
	else
		failed=$((failed + 1))
		echo "  nginx -t $name: FAILED"
		printf '%s\n' "$out" | sed 's/^/    /'
	fi
}

# 1. The dev/test template, rendered by scripts/stack.sh exactly as `make run` renders it.
dev=$tmp/dev
conf=$(QUANTOR_VAR=$dev "$SRC/scripts/stack.sh" nginx-conf)
check dev.conf.in -t -q -p "$dev/nginx/" -c "$conf" -e "$dev/log/error.log"

# 2. The production site in a copy of /etc/nginx: snippets where `make install` puts them.
prod=$tmp/prod
mkdir -p "$prod/etc/snippets/quantor" "$prod/certs" "$prod/logs"
cp /etc/nginx/mime.types /etc/nginx/fastcgi_params "$prod/etc/"
cp "$SRC"/nginx/snippets/*.conf "$prod/etc/snippets/quantor/"
if command -v openssl >/dev/null 2>&1; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=quantor.example \
		-keyout "$prod/certs/privkey.pem" -out "$prod/certs/fullchain.pem" >/dev/null 2>&1
else
	echo "  (openssl missing: cannot make a test certificate)"
fi
sed -e "s|/etc/letsencrypt/live/quantor.example|$prod/certs|g" \
	"$SRC/nginx/quantor.conf" >"$prod/etc/quantor.conf"
cat >"$prod/etc/nginx.conf" <<CONF
pid $prod/nginx.pid;
error_log $prod/logs/error.log;
events { worker_connections 64; }
http {
	include mime.types;
	access_log off;
	client_body_temp_path $prod/client_body;
	proxy_temp_path $prod/proxy;
	fastcgi_temp_path $prod/fastcgi;
	uwsgi_temp_path $prod/uwsgi;
	scgi_temp_path $prod/scgi;
	include quantor.conf;
}
CONF
check quantor.conf -t -q -p "$prod/" -c "$prod/etc/nginx.conf" -e "$prod/logs/error.log"

echo "nginx: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
