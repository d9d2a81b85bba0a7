"""Which local addresses listen on a TCP port, read from /proc/net/tcp and /proc/net/tcp6."""

from __future__ import annotations

import socket
import struct
from pathlib import Path

LISTEN = "0A"


def _address(hex_ip: str) -> str:
    raw = bytes.fromhex(hex_ip)
    # The kernel prints each 32-bit word in host (little-endian) order.
    words = b"".join(struct.pack(">I", w) for w in struct.unpack(f"<{len(raw) // 4}I", raw))
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, words)


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket in LISTEN state on `port` (any process)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            hex_ip, hex_port = local.split(":")
            if state == LISTEN and int(hex_port, 16) == port:
                found.add(_address(hex_ip))
    return found
