"""A real SIP softphone for tests: baresip registered as a seat, auto-answering, with a WAV
file as its microphone. Loopback only."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path

from helpers import free_port


class Baresip:
    def __init__(self, seat: str, password: str, registrar_port: int, *, source_wav: str | None = None,
                 quit_after_s: int = 600):
        self.seat, self.password, self.registrar_port = seat, password, registrar_port
        self.quit_after_s = quit_after_s  # baresip quits by itself then (a test's phone never outlives it)
        self.dir = Path(tempfile.mkdtemp(prefix=f"baresip-{seat}-"))
        self.source_wav = source_wav
        self.proc: subprocess.Popen | None = None
        self.log = self.dir / "baresip.log"

    def _write_config(self) -> None:
        port = free_port()
        if self.source_wav is None:  # a tone as the agent's voice
            self.source_wav = str(self.dir / "voice.wav")
            subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", self.source_wav,
                            "synth", "30", "sine", "440"], check=True)
        source = f"aufile,{self.source_wav}"
        (self.dir / "config").write_text(
            "poll_method\tepoll\n"
            f"sip_listen\t127.0.0.1:{port}\n"
            f"audio_source\t{source}\n"
            "audio_player\taubridge,nil\n"
            "audio_alert\taubridge,nil\n"
            "module_path\t/usr/lib/baresip/modules\n"
            "module\tstdio.so\nmodule\tg711.so\nmodule\taufile.so\nmodule\tausine.so\nmodule\taubridge.so\n"
            "module_app\taccount.so\nmodule_app\tmenu.so\n"
            "sip_trans_def\tudp\n"
        )
        (self.dir / "accounts").write_text(
            f"<sip:{self.seat}@127.0.0.1:{self.registrar_port};transport=udp>"
            f";auth_pass={self.password};answermode=auto;regint=60\n"
        )
        (self.dir / "contacts").write_text("")

    def start(self) -> None:
        self._write_config()
        out = open(self.log, "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(["baresip", "-f", str(self.dir), "-t", str(self.quit_after_s)], stdin=subprocess.PIPE,
                                     stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()

    def dial(self, number: str) -> None:
        """Dial through baresip's menu on stdin (as a person typing on the phone)."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(f"/dial {number}\n".encode())
        self.proc.stdin.flush()

    def kill(self) -> None:
        """Die without unregistering, as a crashed softphone or a pulled cable does."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        if self.proc and self.proc.stdin:
            self.proc.stdin.close()
        self.proc = None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
