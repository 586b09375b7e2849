"""A throw-away redis-server or mosquitto of one run's own, for the fault runner
(scripts/chaos/faults.py) and the fault tests: on a free loopback port, no persistence (a
restart comes back empty, as after a crash of a cache-only Redis), killed and started again at
will. Never the machine's shared servers. Anonymous unless given users: a Mosquitto with
``mqtt_users`` has their password file and ACL (:mod:`callcenter.infra.broker_auth`, as ``make run``
and production), a Redis with ``redis_login`` its one ACL user.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

from callcenter.infra.broker_auth import MqttUsers, write_mosquitto, write_redis
from callcenter.infra.ports import free_port

KINDS = ("redis", "mosquitto")


class PrivateServer:
    """``PrivateServer("redis")`` or ``PrivateServer("mosquitto")``; ``close()`` kills it and
    removes its directory."""

    def __init__(self, kind: str, *, mqtt_users: MqttUsers | None = None,
                 redis_login: tuple[str, str] | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"a private server is redis or mosquitto, not {kind!r}")
        self.kind, self.port = kind, free_port()
        self.mqtt_users, self.redis_login = mqtt_users, redis_login
        self.dir = tempfile.mkdtemp(prefix=f"faults-{kind}-")
        self.proc: subprocess.Popen | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        """The Redis URL (database 0) of a private redis-server, with its user when it has one."""
        login = f"{quote(self.redis_login[0])}:{quote(self.redis_login[1])}@" if self.redis_login else ""
        return f"redis://{login}127.0.0.1:{self.port}/0"

    def _command(self) -> list[str]:
        if self.kind == "redis" and self.redis_login:
            return [shutil.which("redis-server") or "redis-server",
                    str(write_redis(Path(self.dir), self.port, *self.redis_login))]
        if self.kind == "redis":
            return [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", self.dir]
        if self.mqtt_users is not None:
            conf = write_mosquitto(Path(self.dir), self.mqtt_users, self.port)
            return [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)]
        conf = Path(self.dir) / "mosquitto.conf"
        conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        return [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)]

    def start(self) -> None:
        self.proc = subprocess.Popen(self._command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart(self) -> None:
        self.kill()
        self.start()
        self.restarts += 1

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
