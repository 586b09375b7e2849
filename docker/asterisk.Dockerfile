# Asterisk 22 (Debian sid packages). Its config and prompts are rendered from the same settings
# as the controller by the `asterisk-config` job (callcenter image) into the shared volume
# mounted at /srv/callcenter/docker (etc/, sounds/, spool/, db/, log/, run/).
# Here: BASE is callcenter-base:sid-* (the Asterisk sandbox root, imported). Elsewhere:
#   docker build --build-arg BASE=debian:sid -f docker/asterisk.Dockerfile <context>
ARG BASE=debian:sid
FROM ${BASE}
ENV DEBIAN_FRONTEND=noninteractive
RUN set -e; need=""; \
    for p in asterisk asterisk-core-sounds-en-gsm asterisk-moh-opsound-gsm; do \
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"; done; \
    if [ -n "$need" ]; then apt-get update && apt-get install -y --no-install-recommends $need \
      && rm -rf /var/lib/apt/lists/*; fi; \
    rm -rf /usr/share/asterisk/sounds/callcenter /srv/callcenter; \
    ln -s /srv/callcenter/docker/sounds /usr/share/asterisk/sounds/callcenter; \
    for lang in en en_US_f_Allison; do d=/usr/share/asterisk/sounds/$lang; \
      if [ -d "$d" ] && [ ! -L "$d" ]; then rm -rf "$d/callcenter"; ln -s ../callcenter "$d/callcenter"; fi; done
COPY docker/asterisk-entrypoint.sh /usr/local/bin/asterisk-entrypoint
ENTRYPOINT ["/usr/local/bin/asterisk-entrypoint"]
HEALTHCHECK --interval=5s --timeout=10s --start-period=10s --retries=3 \
  CMD ["asterisk", "-C", "/srv/callcenter/docker/etc/asterisk.conf", "-rx", "core show uptime"]
