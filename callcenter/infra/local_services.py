"""``make run``'s own Mosquitto and Redis, authenticated the way production is: per-service MQTT
users with the ACL of :mod:`callcenter.infra.broker_auth` (no anonymous clients) and a Redis ACL
user with a password, each on its own loopback port (1884 and 6380 by default), so the machine's
shared servers on 1883/6379, which the test suite uses, are left as they are.

``python -m callcenter.infra.local_services up`` (run by ``scripts/setup.sh``) creates, once, the
passwords (random, in ``secrets.json``, mode 0600), writes the servers' files under the
directory (``CALLCENTER_LOCAL_DIR``, default ``/var/lib/callcenter/local``), starts whichever of
the two does not answer with those credentials and writes ``callcenter.env``: the
``CALLCENTER_REDIS_URL``, ``CALLCENTER_MQTT_*`` settings ``make run`` loads (not root: under
``~/.local/state/callcenter/local``). ``down`` stops
what ``up`` started (by the pid files); ``env`` prints the env file's path.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from callcenter.infra.broker_auth import MqttUsers, write_mosquitto, write_redis

DEFAULT_DIR = Path("/var/lib/callcenter/local")
CONTROLLER, WEB, REDIS_USER = "callcenter-controller", "callcenter-web", "callcenter"


class LocalServicesError(RuntimeError):
    """A server did not come up, or its port is taken by a server with other credentials."""


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class LocalServices:
    directory: Path = DEFAULT_DIR
    mqtt_port: int = 1884
    redis_port: int = 6380
    prefix: str = "callcenter"

    @property
    def env_file(self) -> Path:
        return self.directory / "callcenter.env"

    # ------------------------------------------------------------------ credentials
    def secrets(self) -> dict[str, str]:
        """The three passwords, made once and kept (a restart keeps the servers' users)."""
        path = self.directory / "secrets.json"
        if path.exists():
            return json.loads(path.read_text())
        self.directory.mkdir(parents=True, exist_ok=True)
        made = {k: secrets.token_hex(16) for k in ("controller", "web", "redis")}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(made, f)
        return made

    def users(self) -> MqttUsers:
        s = self.secrets()
        return MqttUsers(self.prefix, CONTROLLER, s["controller"], WEB, s["web"])

    def env(self) -> dict[str, str]:
        s = self.secrets()
        return {
            "CALLCENTER_REDIS_URL": f"redis://{REDIS_USER}:{s['redis']}@127.0.0.1:{self.redis_port}/0",
            "CALLCENTER_MQTT_HOST": "127.0.0.1", "CALLCENTER_MQTT_PORT": str(self.mqtt_port),
            "CALLCENTER_MQTT_PREFIX": self.prefix,
            "CALLCENTER_MQTT_USERNAME": CONTROLLER, "CALLCENTER_MQTT_PASSWORD": s["controller"],
            "CALLCENTER_MQTT_WEB_USERNAME": WEB, "CALLCENTER_MQTT_WEB_PASSWORD": s["web"],
        }

    def write_env(self) -> Path:
        text = "# written by `python -m callcenter.infra.local_services up` (make setup): make run's brokers\n"
        text += "".join(f"{k}={v}\n" for k, v in self.env().items())
        fd = os.open(self.env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return self.env_file

    # ------------------------------------------------------------------ servers
    async def _logins(self) -> tuple[bool, bool]:
        """(Mosquitto takes the controller and the web user, Redis its user) with these credentials."""
        import aiomqtt
        import redis.asyncio as aioredis

        users = self.users()

        async def mqtt() -> bool:
            try:
                for user, password in ((users.controller, users.controller_password), (users.web, users.web_password)):
                    async with aiomqtt.Client("127.0.0.1", self.mqtt_port, username=user, password=password, timeout=3):
                        pass
                return True
            except (aiomqtt.MqttError, OSError):
                return False

        async def redis() -> bool:
            client = aioredis.from_url(self.env()["CALLCENTER_REDIS_URL"], socket_timeout=3)
            try:
                return bool(await client.ping())
            except Exception:  # noqa: BLE001 - refused, away, or another server: not ours
                return False
            finally:
                await client.aclose()

        return await mqtt(), await redis()

    def logins(self) -> tuple[bool, bool]:
        return asyncio.run(self._logins())

    def up(self, *, timeout_s: float = 15.0) -> Path:
        mqtt_ok, redis_ok = self.logins()
        if not mqtt_ok:
            self._restart("mosquitto", self.mqtt_port, self._start_mosquitto)
        if not redis_ok:
            self._restart("redis", self.redis_port, self._start_redis)
        deadline = time.monotonic() + timeout_s
        while (state := self.logins()) != (True, True):
            if time.monotonic() > deadline:
                names = [n for n, ok in zip(("Mosquitto", "Redis"), state, strict=True) if not ok]
                raise LocalServicesError(f"{' and '.join(names)} did not take their users within {timeout_s:.0f} s "
                                         f"(logs in {self.directory})")
            time.sleep(0.2)
        return self.write_env()

    def _restart(self, kind: str, port: int, start) -> None:
        self._stop(kind)
        if _answers(port):
            raise LocalServicesError(
                f"127.0.0.1:{port} is taken by a {kind} that is not make run's (other credentials, or another "
                f"program): stop it, or choose another port (CALLCENTER_LOCAL_{'MQTT' if kind == 'mosquitto' else 'REDIS'}"
                f"_PORT)")
        start()

    def _start_mosquitto(self) -> None:
        conf = write_mosquitto(self.directory / "mosquitto", self.users(), self.mqtt_port, daemon_files=True)
        subprocess.run([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-d", "-c", str(conf)], check=True,
                       timeout=30)

    def _start_redis(self) -> None:
        conf = write_redis(self.directory / "redis", self.redis_port, REDIS_USER, self.secrets()["redis"], daemon=True)
        subprocess.run([shutil.which("redis-server") or "redis-server", str(conf)], check=True, timeout=30,
                       stdout=subprocess.DEVNULL)

    def _pid_file(self, kind: str) -> Path:
        return self.directory / kind / ("mosquitto.pid" if kind == "mosquitto" else "redis.pid")

    def _stop(self, kind: str) -> bool:
        """Stop the server ``up`` started (by its pid file); True when one was running."""
        path = self._pid_file(kind)
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            return False
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            path.unlink(missing_ok=True)
            return False
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        path.unlink(missing_ok=True)
        return True

    def down(self) -> list[str]:
        return [kind for kind in ("mosquitto", "redis") if self._stop(kind)]


def default_dir() -> Path:
    """/var/lib/callcenter/local as root (scripts/setup.sh), else under the user's state directory."""
    if os.geteuid() == 0:
        return DEFAULT_DIR
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "callcenter" / "local"


def from_environment() -> LocalServices:
    env = os.environ
    return LocalServices(Path(env.get("CALLCENTER_LOCAL_DIR") or default_dir()),
                         int(env.get("CALLCENTER_LOCAL_MQTT_PORT", 1884)), int(env.get("CALLCENTER_LOCAL_REDIS_PORT", 6380)))


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "up"
    services = from_environment()
    try:
        if what == "up":
            path = services.up()
            print(f"make run's Mosquitto on 127.0.0.1:{services.mqtt_port} (users {CONTROLLER}, {WEB}) and Redis on "
                  f"127.0.0.1:{services.redis_port} (user {REDIS_USER}) answer; settings in {path}")
        elif what == "down":
            print("stopped: " + (", ".join(services.down()) or "nothing was running"))
        elif what == "env":
            print(services.env_file)
        else:
            print("usage: python -m callcenter.infra.local_services up|down|env", file=sys.stderr)
            return 2
    except (LocalServicesError, OSError, subprocess.SubprocessError) as exc:
        print(f"local services: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
