"""A local CA and a server certificate for the sandbox Asterisk's WSS (openssl CLI).

Only for `make run` and the tests: production names the operator's files
(`CALLCENTER_WEBRTC_CERT` / `_KEY`). Made once per instance directory and kept; a browser
that should trust the sandbox trusts `ca.crt`, or (the tests) the server key's SPKI hash.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
from pathlib import Path


class CertError(RuntimeError):
    pass


def _run(*args: str, stdin: bytes | None = None) -> bytes:
    res = subprocess.run(["openssl", *args], input=stdin, capture_output=True)
    if res.returncode != 0:
        raise CertError(f"openssl {args[0]} failed: {res.stderr.decode(errors='replace').strip()}")
    return res.stdout


def local_certificates(keys: Path, *, host: str = "127.0.0.1") -> tuple[Path, Path, Path]:
    """(ca.crt, asterisk.crt, asterisk.key) under `keys`, made if missing."""
    keys.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = keys / "ca.key", keys / "ca.crt"
    key, csr, crt = keys / "asterisk.key", keys / "asterisk.csr", keys / "asterisk.crt"
    if crt.exists() and key.exists() and ca_crt.exists():
        return ca_crt, crt, key
    _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(ca_key), "-out", str(ca_crt), "-days", "3650",
         "-subj", "/O=callcenter sandbox/CN=callcenter local CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(csr), "-subj", f"/O=callcenter sandbox/CN={host}")
    ext = keys / "san.ext"
    ext.write_text(f"subjectAltName=IP:{host},DNS:localhost\nextendedKeyUsage=serverAuth\n"
                   "basicConstraints=CA:FALSE\n")
    _run("x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key), "-CAcreateserial",
         "-out", str(crt), "-days", "825", "-extfile", str(ext))
    for f in (ca_key, key):
        f.chmod(0o600)
    return ca_crt, crt, key


def spki_sha256(cert: Path) -> str:
    """The base64 SHA-256 of the certificate's public key (Chromium's --ignore-certificate-errors-spki-list)."""
    pub = _run("x509", "-in", str(cert), "-noout", "-pubkey")
    der = _run("pkey", "-pubin", "-outform", "der", stdin=pub)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()
