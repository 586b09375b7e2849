"""A minimal SIP user agent over secure WebSocket (RFC 7118), for tests: REGISTER with digest
authentication as a browser phone does, against the sandbox Asterisk's WSS. Real TLS, real SIP;
it trusts the sandbox's local CA only."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import secrets
import ssl
from pathlib import Path

import aiohttp


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - SIP digest is MD5


def status_of(message: str) -> int:
    first = message.split("\r\n", 1)[0]
    m = re.match(r"SIP/2\.0 (\d{3})", first)
    return int(m.group(1)) if m else 0


class WssSip:
    def __init__(self, url: str, ca_file: Path, user: str, password: str, domain: str = "127.0.0.1"):
        self.url, self.user, self.password, self.domain = url, user, password, domain
        self.ssl = ssl.create_default_context(cafile=str(ca_file))
        self.call_id = secrets.token_hex(8)
        self.tag = secrets.token_hex(4)
        self.cseq = 0
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.transport = None
        self.host = f"{secrets.token_hex(4)}.invalid"

    async def connect(self) -> None:
        self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(self.url, protocols=("sip",), ssl=self.ssl)
        conn = self.ws._response.connection  # noqa: SLF001 - to cut or close the wire ourselves
        self.transport = conn.transport if conn is not None else None
        self.replies: asyncio.Queue[str] = asyncio.Queue()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        """Replies to our requests go to `replies`; Asterisk's OPTIONS (qualify) are answered 200,
        as a live phone does (a phone that answers none is unreachable)."""
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            if msg.data.startswith("SIP/2.0"):
                await self.replies.put(msg.data)
            elif msg.data.startswith("OPTIONS "):
                head = msg.data.split("\r\n\r\n", 1)[0].split("\r\n")
                keep = [h for h in head[1:] if h.split(":", 1)[0].lower() in ("via", "from", "to", "call-id", "cseq")]
                await self.ws.send_str("\r\n".join(["SIP/2.0 200 OK", *keep, "Content-Length: 0", "", ""]))

    async def close(self) -> None:
        if getattr(self, "reader", None) is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        if self.transport is not None:  # also when closing: a TLS shutdown still waiting for
            self.transport.abort()  # Asterisk's close_notify kept the socket open past the test
        if self.session is not None:
            await self.session.close()

    def _register(self, expires: int, auth: str = "") -> str:
        self.cseq += 1
        branch = "z9hG4bK" + secrets.token_hex(6)
        lines = [
            f"REGISTER sip:{self.domain} SIP/2.0",
            f"Via: SIP/2.0/WSS {self.host};branch={branch}",
            "Max-Forwards: 70",
            f"To: <sip:{self.user}@{self.domain}>",
            f"From: <sip:{self.user}@{self.domain}>;tag={self.tag}",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: <sip:{self.user}@{self.host};transport=ws>;expires={expires}",
            f"Expires: {expires}",
        ]
        if auth:
            lines.append(auth)
        lines += ["Content-Length: 0", "", ""]
        return "\r\n".join(lines)

    async def _exchange(self, message: str) -> str:
        assert self.ws is not None
        await self.ws.send_str(message)
        while True:
            data = await asyncio.wait_for(self.replies.get(), 10)
            if f"CSeq: {self.cseq} REGISTER" in data and status_of(data) >= 200:
                return data

    async def register(self, expires: int = 300) -> int:
        """The final status of a REGISTER (answering one digest challenge)."""
        reply = await self._exchange(self._register(expires))
        if status_of(reply) != 401:
            return status_of(reply)
        challenge = re.search(r"WWW-Authenticate: Digest (.*)", reply)
        assert challenge, reply
        fields = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge.group(1)))
        uri = f"sip:{self.domain}"
        ha1 = _md5(f"{self.user}:{fields['realm']}:{self.password}")
        ha2 = _md5(f"REGISTER:{uri}")
        cnonce, nc = secrets.token_hex(4), "00000001"
        if "auth" in fields.get("qop", ""):
            response = _md5(f"{ha1}:{fields['nonce']}:{nc}:{cnonce}:auth:{ha2}")
            extra = f', qop=auth, nc={nc}, cnonce="{cnonce}"'
        else:
            response, extra = _md5(f"{ha1}:{fields['nonce']}:{ha2}"), ""
        auth = (f'Authorization: Digest username="{self.user}", realm="{fields["realm"]}", '
                f'nonce="{fields["nonce"]}", uri="{uri}", response="{response}", algorithm=MD5'
                f'{extra}' + (f', opaque="{fields["opaque"]}"' if "opaque" in fields else ""))
        return status_of(await self._exchange(self._register(expires, auth)))

    async def drop(self) -> None:
        """The network goes: the TCP connection is cut, no un-REGISTER, no WebSocket close frame."""
        if self.transport is not None:
            self.transport.abort()
        await self.close()
