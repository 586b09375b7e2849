# PostgreSQL 15, Redis and Mosquitto for the compose stack, plus the backup job (pg_dump).
# No container registry is reachable here, so these come from Debian packages; on a normal host
# you may use the official postgres:15, redis:7 and eclipse-mosquitto:2 images instead.
ARG BASE=debian:bookworm
FROM ${BASE}
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
RUN set -e; need=""; \
    for p in python3 postgresql redis-server mosquitto; do \
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"; done; \
    if [ -n "$need" ]; then apt-get update && apt-get install -y --no-install-recommends $need \
      && rm -rf /var/lib/apt/lists/*; fi; \
    mkdir -p /backups /var/lib/postgresql/data && chown postgres:postgres /var/lib/postgresql/data
COPY docker/services.sh /usr/local/bin/svc
COPY docker/backup.sh /usr/local/bin/backup
ENTRYPOINT ["/usr/local/bin/svc"]
