"""A carrier for tests: sipp on loopback plays the SIP trunk's far end (the carrier's SBC).

`Carrier.call(did)` sends an INVITE offering A-law only, as a Chinese carrier does, optionally a
DTMF digit (SIP INFO) once answered, holds, then hangs up. `Carrier.answer()` is the far end of
our outbound calls (survey and missed-call callbacks): it answers and logs every message, so a
test can read the From header and the SDP offer we sent.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

_HDR = """Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "carrier" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>{to_tag}
Call-ID: [call_id]
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70"""

_SDP = """v=0
o=carrier 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv"""


def uac_scenario(caller: str, dtmf: str, hold_ms: int, expect: str = "200") -> str:
    hdr = _HDR.format(caller=caller, to_tag="")
    hdr_dialog = _HDR.format(caller=caller, to_tag="[peer_tag_param]")
    invite = (f"INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n{hdr}\nCSeq: 1 INVITE\n"
              f"Content-Type: application/sdp\nContent-Length: [len]\n\n{_SDP}\n")
    parts = [f'<send retrans="500"><![CDATA[\n{invite}]]></send>',
             '<recv response="100" optional="true"/>', '<recv response="180" optional="true"/>',
             '<recv response="183" optional="true"/>']
    if expect != "200":  # a refused call: the final response, then ACK
        parts += [f'<recv response="{expect}"/>',
                  f'<send><![CDATA[\nACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n{hdr_dialog}\n'
                  'CSeq: 1 ACK\nContent-Length: 0\n\n]]></send>']
    else:
        parts += ['<recv response="200" rtd="true"/>',
                  f'<send><![CDATA[\nACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n{hdr_dialog}\n'
                  'CSeq: 1 ACK\nContent-Length: 0\n\n]]></send>',
                  '<pause milliseconds="1500"/>']
        for i, digit in enumerate(dtmf):
            parts += [f'<send retrans="500"><![CDATA[\nINFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n'
                      f'{hdr_dialog}\nCSeq: {2 + i} INFO\nContent-Type: application/dtmf-relay\n'
                      f'Content-Length: [len]\n\nSignal={digit}\nDuration=160\n]]></send>',
                      '<recv response="200"/>']
        parts += [f'<pause milliseconds="{hold_ms}"/>',
                  f'<send retrans="500"><![CDATA[\nBYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n'
                  f'{hdr_dialog}\nCSeq: 20 BYE\nContent-Length: 0\n\n]]></send>',
                  '<recv response="200"/>']
    body = "\n".join(parts)
    return f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="carrier call">\n{body}\n</scenario>\n'


UAS_SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="carrier answers">
<recv request="INVITE" crlf="true"/>
<send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

]]></send>
<send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=carrier 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8
a=rtpmap:8 PCMA/8000
]]></send>
<recv request="ACK" optional="true" rtd="true" crlf="true"/>
<recv request="BYE"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
"""


class Carrier:
    """One sipp process on 127.0.0.1:`port`; `messages()` is its message trace."""

    def __init__(self, port: int, media_port: int):
        if shutil.which("sipp") is None:
            raise RuntimeError("sipp is missing: apt-get install sip-tester (scripts/setup.sh does it)")
        self.port, self.media_port = port, media_port
        self.dir = Path(tempfile.mkdtemp(prefix="carrier-"))
        self.proc: subprocess.Popen | None = None

    def _start(self, scenario: str, args: list[str]) -> None:
        sf = self.dir / "scenario.xml"
        sf.write_text(scenario)
        self.proc = subprocess.Popen(
            ["sipp", "-sf", str(sf), "-i", "127.0.0.1", "-p", str(self.port), "-mp", str(self.media_port),
             "-m", "1", "-aa", "-nostdin", "-trace_msg",
             "-message_file", str(self.dir / "messages.log"), "-trace_err",
             "-error_file", str(self.dir / "errors.log"), *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            start_new_session=True)

    def call(self, target: str, did: str, *, caller: str = "13800000001", dtmf: str = "", hold_ms: int = 60000,
             expect: str = "200") -> None:
        """Place one call to `did` at `target` (host:port of our SIP trunk)."""
        self._start(uac_scenario(caller, dtmf, hold_ms, expect), ["-s", did, target])

    def answer(self) -> None:
        """Answer one call (the far end of our outbound calls)."""
        self._start(UAS_SCENARIO, [])

    def messages(self) -> str:
        f = self.dir / "messages.log"
        return f.read_text(errors="replace") if f.exists() else ""

    def wait(self, timeout: float = 30) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)
