# The controller image: ARI controller, FastAGI IVR, web server (and `callcenter` CLI jobs).
# Here: BASE is the debootstrap-imported callcenter-base:bookworm-* (docker/build.py).
# Elsewhere: docker build --build-arg BASE=debian:bookworm -f docker/callcenter.Dockerfile <context>
# The context holds wheels/ (built on the host with `pip wheel`: a container does not inherit the
# host's package-index configuration) and the project's sources (docker/build.py stages it).
ARG BASE=debian:bookworm
FROM ${BASE}
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
RUN set -e; need=""; \
    for p in python3 python3-venv ca-certificates espeak-ng sox libsox-fmt-base; do \
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"; done; \
    if [ -n "$need" ]; then apt-get update && apt-get install -y --no-install-recommends $need \
      && rm -rf /var/lib/apt/lists/*; fi
COPY wheels /wheels
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install -q --no-index --find-links /wheels -r /wheels/requirements.txt \
    && rm -rf /wheels /root/.cache
COPY pyproject.toml /app/pyproject.toml
COPY asterisk_conf /app/asterisk_conf
COPY ivr_flows /app/ivr_flows
COPY callcenter /app/callcenter
RUN printf '#!/bin/sh\nexec /opt/venv/bin/python -m callcenter.cli "$@"\n' > /usr/local/bin/callcenter \
    && chmod +x /usr/local/bin/callcenter \
    && useradd --system --home-dir /var/lib/callcenter --create-home callcenter
ENV PYTHONPATH=/app PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 \
    CALLCENTER_LOG_FORMAT=json CALLCENTER_FLOWS_DIR=/app/ivr_flows
WORKDIR /app
ENTRYPOINT ["callcenter"]
CMD ["run"]
HEALTHCHECK --interval=5s --timeout=20s --start-period=20s --retries=3 CMD ["callcenter", "doctor", "--deploy"]
