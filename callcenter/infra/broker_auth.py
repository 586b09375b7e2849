"""The authenticated brokers, as files and arguments: Mosquitto with a password file and an ACL,
Redis with one ACL user. One place for the shape, used by ``make run``'s own servers
(:mod:`callcenter.infra.local_services`) and the tests' private servers
(:mod:`callcenter.infra.private_servers`); the compose stack's ``docker/services.sh`` writes the
same ACL in shell (its image has no Python package).

MQTT users (docker/README.md, "MQTT and Redis users"):

- the controller (``CALLCENTER_MQTT_USERNAME``) may only publish under ``<prefix>/``: the outbox
  relay; it reads nothing;
- the web tier (``CALLCENTER_MQTT_WEB_USERNAME``) may only read ``<prefix>/#``: the pages' hubs,
  which forward what they expect (:mod:`callcenter.web.relay`);
- nobody else: no anonymous clients, and a user not named in the ACL may do nothing.

Redis: the ``default`` user is switched off; the one user of ``CALLCENTER_REDIS_URL`` may run
every command on every key (the live state, sessions, the lease: one application).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class BrokerAuthError(ValueError):
    """A user name or password the broker files cannot hold."""


def _name(user: str) -> str:
    if not _NAME.match(user):
        raise BrokerAuthError(f"MQTT/Redis user name {user!r}: letters, digits, '_', '.', '-' only")
    return user


def _secret(password: str) -> str:
    if not password or any(c.isspace() for c in password):
        raise BrokerAuthError("a broker password must be non-empty and without whitespace")
    return password


@dataclass(frozen=True)
class MqttUsers:
    prefix: str
    controller: str
    controller_password: str
    web: str
    web_password: str

    def acl(self) -> str:
        """The ACL file: the controller writes the prefix, the web tier reads it, nobody else anything."""
        c, w = _name(self.controller), _name(self.web)
        if c == w:
            raise BrokerAuthError("the controller and the web tier must be different MQTT users")
        return (f"# callcenter: the controller publishes, the web tier reads; anonymous clients are refused\n"
                f"user {c}\ntopic write {self.prefix}/#\n\n"
                f"user {w}\ntopic read {self.prefix}/#\n")


def mosquitto_conf(port: int, bind: str, password_file: Path, acl_file: Path, *,
                   pid_file: Path | None = None, log_file: Path | None = None) -> str:
    lines = [f"listener {port} {bind}", "allow_anonymous false", f"password_file {password_file}",
             f"acl_file {acl_file}", "persistence false"]
    if pid_file is not None:
        lines.append(f"pid_file {pid_file}")
    if log_file is not None:
        lines += [f"log_dest file {log_file}", "log_type error", "log_type warning", "log_type notice"]
    return "\n".join(lines) + "\n"


def write_mosquitto(directory: Path, users: MqttUsers, port: int, bind: str = "127.0.0.1", *,
                    daemon_files: bool = False) -> Path:
    """Write ``passwd`` (hashed by ``mosquitto_passwd``), ``acl`` and ``mosquitto.conf`` into
    ``directory``; return the conf's path. Started as root, mosquitto reads them as its own user
    ``mosquitto``: the directory is then handed to that user (and closed to the others)."""
    directory.mkdir(parents=True, exist_ok=True)
    passwd, acl, conf = directory / "passwd", directory / "acl", directory / "mosquitto.conf"
    tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    passwd.unlink(missing_ok=True)
    for i, (user, password) in enumerate(((users.controller, users.controller_password),
                                          (users.web, users.web_password))):
        subprocess.run([tool, "-b", *(["-c"] if i == 0 else []), str(passwd), _name(user), _secret(password)],
                       check=True, capture_output=True, timeout=30)
    acl.write_text(users.acl())
    conf.write_text(mosquitto_conf(port, bind, passwd, acl,
                                   pid_file=directory / "mosquitto.pid" if daemon_files else None,
                                   log_file=directory / "mosquitto.log" if daemon_files else None))
    for path in (directory, passwd, acl, conf):
        path.chmod(0o700 if path.is_dir() else 0o600)
    _hand_to_mosquitto(directory)
    return conf


def _hand_to_mosquitto(directory: Path) -> None:
    if os.geteuid() != 0:
        return
    try:
        who = pwd.getpwnam("mosquitto")
    except KeyError:
        return
    for path in (directory, *directory.iterdir()):
        os.chown(path, who.pw_uid, who.pw_gid)


def redis_conf(port: int, bind: str, directory: Path, user: str, password: str, *, daemon: bool = False) -> str:
    """A redis.conf: no persistence (live state only), protected mode, ``default`` off and ``user``
    with ``password`` allowed everything (in a file, so the password is not on a command line)."""
    lines = [f"port {port}", f"bind {bind}", "protected-mode yes", 'save ""', "appendonly no", f"dir {directory}",
             "user default off", f"user {_name(user)} on >{_secret(password)} ~* &* +@all"]
    if daemon:
        lines += ["daemonize yes", f"pidfile {directory / 'redis.pid'}", f"logfile {directory / 'redis.log'}"]
    return "\n".join(lines) + "\n"


def write_redis(directory: Path, port: int, user: str, password: str, bind: str = "127.0.0.1", *,
                daemon: bool = False) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    conf = directory / "redis.conf"
    conf.write_text(redis_conf(port, bind, directory, user, password, daemon=daemon))
    conf.chmod(0o600)
    return conf
