#!/bin/sh
# svc postgres|redis|mosquitto|health NAME: run one backing service of the compose stack on the
# address and port the shared env file gives the controller (CALLCENTER_DATABASE_URL,
# CALLCENTER_REDIS_URL, CALLCENTER_MQTT_HOST/PORT), so the ports are written down once.
# SERVICE_LISTEN (default 127.0.0.1) is the address the service binds; 0.0.0.0 on a bridge network.
set -e
LISTEN="${SERVICE_LISTEN:-127.0.0.1}"
url_part() {  # url_part URL port|user|password|db|host
  python3 -c 'import sys; from urllib.parse import urlsplit, unquote
u = urlsplit(sys.argv[1]); p = sys.argv[2]
print({"port": u.port or {"postgresql": 5432, "postgres": 5432, "redis": 6379}.get(u.scheme, 0),
       "user": unquote(u.username or ""), "password": unquote(u.password or ""), "host": u.hostname or "",
       "db": u.path.lstrip("/") or "0"}[p])' "$1" "$2"
}
PGDATA=/var/lib/postgresql/data/pgdata
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

case "$1" in
postgres)
  port=$(url_part "$CALLCENTER_DATABASE_URL" port)
  user=$(url_part "$CALLCENTER_DATABASE_URL" user)
  password=$(url_part "$CALLCENTER_DATABASE_URL" password)
  db=$(url_part "$CALLCENTER_DATABASE_URL" db)
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    echo "svc: initialising a new cluster in $PGDATA (database $db, owner $user)"
    mkdir -p "$PGDATA" && chown -R postgres:postgres /var/lib/postgresql/data && chmod 700 "$PGDATA"
    pwfile=$(mktemp) && echo "$password" > "$pwfile" && chown postgres "$pwfile"
    su postgres -c "$PGBIN/initdb -D $PGDATA -U postgres --auth-local=peer --auth-host=scram-sha-256 \
      --pwfile=$pwfile -E UTF8 --locale=C.UTF-8" >/dev/null
    rm -f "$pwfile"
    su postgres -c "$PGBIN/pg_ctl -D $PGDATA -o '-c listen_addresses= -k /tmp' -w start" >/dev/null
    su postgres -c "psql -h /tmp -qAtX -v ON_ERROR_STOP=1 -v u=\"$user\" -v p=\"$password\" -v d=\"$db\"" <<'SQL'
CREATE ROLE :"u" LOGIN PASSWORD :'p';
CREATE DATABASE :"d" OWNER :"u";
SQL
    su postgres -c "$PGBIN/pg_ctl -D $PGDATA -m fast -w stop" >/dev/null
  fi
  chown -R postgres:postgres /var/lib/postgresql/data
  exec su postgres -c "exec $PGBIN/postgres -D $PGDATA -c listen_addresses=$LISTEN -c port=$port \
    -k /tmp -c unix_socket_directories=/tmp"
  ;;
redis)
  port=$(url_part "$CALLCENTER_REDIS_URL" port)
  user=$(url_part "$CALLCENTER_REDIS_URL" user)
  password=$(url_part "$CALLCENTER_REDIS_URL" password)
  [ -n "$password" ] || { echo "svc: CALLCENTER_REDIS_URL has no password (redis://USER:PASSWORD@host:port/db)" >&2; exit 2; }
  # one ACL user with the URL's password (the default user off; without a user name in the URL the
  # password is the default user's); the conf file keeps the password off the command line.
  # No persistence on purpose: Redis holds only live state that is rebuilt from PostgreSQL and
  # Asterisk after a restart (docker/README.md, "What Redis loses")
  conf=$(mktemp -d)/redis.conf
  umask 077
  {
    printf 'bind %s\nport %s\nprotected-mode yes\nsave ""\nappendonly no\n' "$LISTEN" "$port"
    if [ -n "$user" ] && [ "$user" != default ]; then
      printf 'user default off\nuser %s on >%s ~* &* +@all\n' "$user" "$password"
    else
      printf 'requirepass %s\n' "$password"
    fi
  } > "$conf"
  exec redis-server "$conf"
  ;;
mosquitto)
  # per-service users (docker/README.md, "MQTT and Redis users"): the controller publishes under
  # the prefix, the web tier reads it, nobody anonymous; the same ACL as callcenter/infra/broker_auth.py
  prefix="${CALLCENTER_MQTT_PREFIX:-callcenter}"
  for v in CALLCENTER_MQTT_USERNAME CALLCENTER_MQTT_PASSWORD CALLCENTER_MQTT_WEB_USERNAME CALLCENTER_MQTT_WEB_PASSWORD; do
    eval "[ -n \"\${$v:-}\" ]" || { echo "svc: $v is not set: the broker takes no anonymous clients" >&2; exit 2; }
  done
  dir=$(mktemp -d) && chown mosquitto: "$dir" 2>/dev/null; chmod 700 "$dir"
  mosquitto_passwd -b -c "$dir/passwd" "$CALLCENTER_MQTT_USERNAME" "$CALLCENTER_MQTT_PASSWORD"
  mosquitto_passwd -b "$dir/passwd" "$CALLCENTER_MQTT_WEB_USERNAME" "$CALLCENTER_MQTT_WEB_PASSWORD"
  printf 'user %s\ntopic write %s/#\n\nuser %s\ntopic read %s/#\n' \
    "$CALLCENTER_MQTT_USERNAME" "$prefix" "$CALLCENTER_MQTT_WEB_USERNAME" "$prefix" > "$dir/acl"
  printf 'listener %s %s\nallow_anonymous false\npassword_file %s\nacl_file %s\npersistence false\n' \
    "${CALLCENTER_MQTT_PORT:-1883}" "$LISTEN" "$dir/passwd" "$dir/acl" > "$dir/mosquitto.conf"
  chmod 600 "$dir"/*
  chown -R mosquitto: "$dir" 2>/dev/null || true
  exec mosquitto -c "$dir/mosquitto.conf"
  ;;
health)
  case "$2" in
  postgres) exec "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$(url_part "$CALLCENTER_DATABASE_URL" port)" ;;
  redis) user=$(url_part "$CALLCENTER_REDIS_URL" user)  # healthy: PONG to the URL's user and password
         pong=$(REDISCLI_AUTH=$(url_part "$CALLCENTER_REDIS_URL" password) redis-cli --no-auth-warning \
           -p "$(url_part "$CALLCENTER_REDIS_URL" port)" ${user:+--user "$user"} ping 2>&1)
         [ "$pong" = PONG ] && exit 0; echo "$pong" >&2; exit 1 ;;
  mosquitto) exec python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 3)' \
               "${CALLCENTER_MQTT_PORT:-1883}" ;;
  esac
  echo "svc health postgres|redis|mosquitto" >&2; exit 2
  ;;
*)
  exec "$@"
  ;;
esac
