"""The Asterisk 22 sandbox: a minimal Debian sid root (debootstrap), cached outside the repo.

Debian 12 ships no Asterisk; sid ships Asterisk 22. The root is built once from the mirror
that this machine's own apt sources name, cached under `settings.asterisk_cache`, and rebuilt
only when the package list changes. Each Asterisk *instance* (make run, a test session) gets
its own config/run/spool/log/db directories inside the root, so instances never collide.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from callcenter.infra.asterisk_conf import render_all
from callcenter.infra.certs import local_certificates
from callcenter.infra.settings import REPO_ROOT, Settings

PACKAGES = ("asterisk", "asterisk-core-sounds-en-gsm", "asterisk-moh-opsound-gsm")
SUITE = "sid"


class SandboxError(RuntimeError):
    """One clear line saying what is wrong and what to do."""


def root_path(cache: Path) -> Path:
    digest = hashlib.sha256(" ".join((SUITE, *PACKAGES)).encode()).hexdigest()[:10]
    return cache / f"asterisk-root-{digest}"


def _mirror() -> str:
    out = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "apt_mirror.py")], capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SandboxError(out.stderr.strip() or "cannot read a Debian mirror from apt sources")
    return out.stdout.strip()


def build_root(cache: Path, *, echo=print) -> Path:
    """Build the sid root if missing; returns its path. Shows debootstrap's progress.

    Builders in other processes (`make run` and `make test` started together, parallel test
    runs) wait on a lock file instead of deleting each other's half-built root."""
    root = root_path(cache)
    if (root / ".complete").exists():
        return root
    if shutil.which("debootstrap") is None:
        raise SandboxError("debootstrap is missing: apt-get install debootstrap (make setup does it)")
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"{root.name}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            echo("another process is building the Asterisk sandbox; waiting for it ...")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if (root / ".complete").exists():
            return root
        return _debootstrap(root, echo)


def _debootstrap(root: Path, echo) -> Path:
    for stale in root.parent.glob(root.name + ".partial*"):  # a builder that died (we hold the lock)
        _unmount(stale)
        shutil.rmtree(stale)
    tmp = root.with_name(f"{root.name}.partial-{os.getpid()}")
    mirror = _mirror()
    echo(f"building the Asterisk sandbox ({SUITE}, {', '.join(PACKAGES)}) from {mirror} ...")
    started = time.monotonic()
    cmd = ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(tmp), mirror]
    tail: list[str] = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail = [*tail[-19:], line.rstrip()]
            if line.startswith(("I: Retrieving", "I: Extracting", "I: Unpacking", "I: Configuring", "I: Base")):
                echo("  " + line.rstrip()[:100])
        if proc.wait() != 0:
            for line in tail:
                echo("  | " + line[:200])
            log = tmp / "debootstrap" / "debootstrap.log"
            hint = f" (full log: {log})" if log.exists() else ""
            raise SandboxError(f"debootstrap failed (exit {proc.returncode}); see the lines above{hint}")
    (tmp / ".complete").write_text(f"built in {time.monotonic() - started:.0f}s\n")
    tmp.rename(root)
    echo(f"sandbox built in {time.monotonic() - started:.0f}s at {root}")
    return root


def _is_mount(path: Path) -> bool:
    return os.path.ismount(path)


def mount(root: Path) -> None:
    for target, args in ((root / "proc", ["-t", "proc", "proc"]), (root / "dev", ["--bind", "/dev"])):
        target.mkdir(exist_ok=True)
        if not _is_mount(target):
            res = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
            if res.returncode != 0:
                raise SandboxError(f"cannot mount {target}: {res.stderr.strip()} (run as root)")


def ensure_hosts(root: Path) -> None:
    """debootstrap leaves the root without /etc/hosts: Asterisk then asks DNS for this machine's
    own name and for A.ROOT-SERVERS.NET (acl.c, to find its address) on every SIP call, and logs
    two failed lookups each time. A real host resolves its own name; so does the sandbox."""
    name = socket.gethostname()
    hosts = root / "etc" / "hosts"
    try:
        text = hosts.read_text()
    except OSError:
        text = ""
    if any(name in line.split()[1:] for line in text.splitlines() if not line.startswith("#")):
        return
    base = text or "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n"
    tmp = hosts.with_name(f".hosts.{os.getpid()}")
    tmp.write_text(base + f"127.0.1.1\t{name}\n")
    tmp.replace(hosts)  # atomic: instances sharing the root never read half a file


def _unmount(root: Path) -> None:
    for sub in ("dev", "proc"):
        if _is_mount(root / sub):
            subprocess.run(["umount", "-l", str(root / sub)], capture_output=True)


def port_free(port: int, kind: int = socket.SOCK_STREAM) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class AsteriskInstance:
    settings: Settings
    root: Path
    seats: tuple[str, ...]  # the seat ids the PJSIP config and the fallback queue get
    proc: subprocess.Popen | None = None

    @property
    def inst_dir(self) -> str:
        return f"/srv/callcenter/{self.settings.asterisk_instance}"

    @property
    def host_dir(self) -> Path:
        return self.root / self.inst_dir.lstrip("/")

    @property
    def conf(self) -> str:
        return f"{self.inst_dir}/etc/asterisk.conf"

    def install_config(self) -> None:
        for sub in ("etc", "run", "spool", "spool/recording", "log", "db"):  # recording: survey comments
            (self.host_dir / sub).mkdir(parents=True, exist_ok=True)
        render_all(self.settings, self.host_dir / "etc", self.inst_dir, self.seats)
        if self.settings.webrtc_port and not self.settings.webrtc_cert:  # the browser phone's WSS
            local_certificates(self.keys_dir)

    @property
    def keys_dir(self) -> Path:
        """The local CA and the WSS certificate of this instance (callcenter/infra/certs.py)."""
        return self.host_dir / "keys"

    def _kill_stale(self) -> None:
        pidfile = self.host_dir / "run" / "asterisk.pid"
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.3)
        except ProcessLookupError:
            pass
        pidfile.unlink(missing_ok=True)

    def start(self, *, timeout: float = 60.0) -> None:
        from callcenter.infra.prompts import install_prompts

        mount(self.root)
        ensure_hosts(self.root)
        self._kill_stale()
        for port, what, env in (
            (self.settings.ari_port, "ARI HTTP", "CALLCENTER_ARI_URL"),
            (self.settings.sip_port, "SIP", "CALLCENTER_SIP_PORT"),
            (self.settings.webrtc_port, "WSS", "CALLCENTER_WEBRTC_PORT"),
        ):
            if not port:
                continue
            kind = socket.SOCK_DGRAM if what == "SIP" else socket.SOCK_STREAM
            if not port_free(port, kind):
                raise SandboxError(f"port {port} ({what}) is taken by another process; stop it or set {env}")
        self.install_config()
        install_prompts(self.root)
        log = open(self.host_dir / "log" / "console.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(
            ["chroot", str(self.root), "asterisk", "-f", "-n", "-C", self.conf],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        try:
            self._wait_ari(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ari(self, timeout: float) -> None:
        import base64
        import urllib.error
        import urllib.request

        url = f"{self.settings.ari_url}/ari/asterisk/info"
        token = base64.b64encode(f"{self.settings.ari_user}:{self.settings.ari_password}".encode()).decode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise SandboxError(
                    f"asterisk exited with {self.proc.returncode}; see {self.host_dir}/log/console.log"
                )
            try:
                req = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
                with urllib.request.urlopen(req, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise SandboxError(f"ARI did not answer at {url} within {timeout:.0f}s")

    def cli(self, command: str) -> str:
        res = subprocess.run(
            ["chroot", str(self.root), "asterisk", "-C", self.conf, "-rx", command],
            capture_output=True, text=True, timeout=20,
        )
        return res.stdout

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.cli("core stop now")
                self.proc.wait(timeout=10)
            except (subprocess.TimeoutExpired, OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc = None


def reap_orphans(root: Path, prefix: str = "test-") -> list[str]:
    """Stop Asterisks left behind by test or bench runs that were killed (their pid is gone)."""
    reaped = []
    base = root / "srv" / "callcenter"
    for inst in base.glob(f"{prefix}*") if base.exists() else []:
        owner = inst.name.rsplit("-", 1)[-1]
        if owner.isdigit() and Path(f"/proc/{owner}").exists():
            continue
        pidfile = inst / "run" / "asterisk.pid"
        try:
            os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
        shutil.rmtree(inst, ignore_errors=True)
        reaped.append(inst.name)
    return reaped


def start_instance(settings: Settings, seats: Sequence[str], *, echo=print) -> AsteriskInstance:
    root = build_root(settings.asterisk_cache, echo=echo)
    for prefix in ("test-", "bench-"):
        reap_orphans(root, prefix)
    inst = AsteriskInstance(settings, root, tuple(seats))
    inst.start()
    return inst
