"""Xvnc itself, as a client on this machine would meet it: loopback only, VncAuth only."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp
LOOPBACK = {"0100007F": "127.0.0.1", "00000000000000000000000001000000": "::1"}


def listeners(port: int) -> list[str]:
    """Local addresses listening on ``port``, as hex from /proc/net/tcp and tcp6."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == LISTEN:
                found.append(address)
    return found


def test_rfb_port_listens_on_loopback_only(desktop_session: Any) -> None:
    addresses = listeners(5900 + desktop_session.display)
    assert addresses, "nothing listens on the RFB port"
    assert set(addresses) <= set(LOOPBACK), f"RFB listens beyond loopback: {addresses}"


def test_rfb_offers_vnc_authentication_only(desktop_session: Any) -> None:
    with socket.create_connection(("127.0.0.1", 5900 + desktop_session.display), 5) as rfb:
        assert rfb.recv(12).startswith(b"RFB 003.")
        rfb.sendall(b"RFB 003.008\n")
        count = rfb.recv(1)[0]
        types = list(rfb.recv(count))
    assert types == [2], f"security types {types}: 2 (VncAuth) only, never 1 (None)"
