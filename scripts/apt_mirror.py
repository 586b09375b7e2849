#!/usr/bin/env python3
"""Print the Debian mirror URL this machine's own apt sources name (never a hard-coded host).

Reads deb822 `*.sources` files and one-line `sources.list` entries, and picks the first
`deb` source whose suite is a plain Debian release (not -security, not a third-party repo).
"""

from __future__ import annotations

import glob
import re
import sys

DEBIAN_SUITES = re.compile(r"^(bookworm|trixie|forky|sid|unstable|testing|stable|bullseye)(-updates)?$")


def _deb822(text: str):
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "deb" in fields.get("types", "").split():
            for uri in fields.get("uris", "").split():
                yield uri, fields.get("suites", "").split()


def _one_line(text: str):
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) >= 3 and parts[0] == "deb":
            rest = [p for p in parts[1:] if not p.startswith("[")]
            if len(rest) >= 2:
                yield rest[0], [rest[1]]


def mirrors():
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        yield from _deb822(open(path, encoding="utf-8").read())
    for path in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list"))]:
        try:
            yield from _one_line(open(path, encoding="utf-8").read())
        except FileNotFoundError:
            continue


def main() -> int:
    for uri, suites in mirrors():
        if any(DEBIAN_SUITES.match(s) for s in suites) and "security" not in uri:
            print(uri.rstrip("/"))
            return 0
    print("no Debian mirror found in /etc/apt/sources.list{,.d}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
