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
  # no persistence on purpose: Redis holds only live state that is rebuilt from PostgreSQL and
  # Asterisk after a restart (docker/README.md, "What Redis loses")
  exec redis-server --bind "$LISTEN" --port "$port" --save "" --appendonly no --protected-mode no
  ;;
mosquitto)
  conf=/tmp/mosquitto.conf
  printf 'listener %s %s\nallow_anonymous true\npersistence false\n' "${CALLCENTER_MQTT_PORT:-1883}" "$LISTEN" > "$conf"
  exec mosquitto -c "$conf"
  ;;
health)
  case "$2" in
  postgres) exec "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$(url_part "$CALLCENTER_DATABASE_URL" port)" ;;
  redis) exec redis-cli -p "$(url_part "$CALLCENTER_REDIS_URL" port)" ping ;;
  mosquitto) exec python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 3)' \
               "${CALLCENTER_MQTT_PORT:-1883}" ;;
  esac
  echo "svc health postgres|redis|mosquitto" >&2; exit 2
  ;;
*)
  exec "$@"
  ;;
esac
