"""Gateway proxy cost: throughput and added latency against direct websockify, same run.

Behind Debian's websockify (the one the desktop image runs) sits a loopback TCP source that
streams bytes on request or echoes. The gateway runs in a process of its own, as deployed,
with the real app and proxy and a seat in its index pointing at that websockify (no API
server: the watch path is not what this measures). The client alternates direct and
through-gateway rounds so both see the same machine load. Targets (ARCHITECTURE.md): the
gateway keeps >= 80% of direct throughput and adds <= 1 ms per round trip.
"""

from __future__ import annotations

import asyncio
import base64
import json
import multiprocessing
import os
import shutil
import statistics
import struct
import subprocess
import time
from typing import Any

import aiohttp
from aiohttp import web

from arcdesk.api.credentials import new_token
from arcdesk.gateway.app import create_app
from arcdesk.gateway.index import ENDPOINT_SLICE, SEAT, SECRET, SeatIndex
from arcdesk.gateway.state import Gateway
from arcdesk.gateway.tokens import Digester
from bench import Row, percentile, write_result
from devcluster import kit

STREAM_BYTES = 256 * 1024 * 1024
ECHO_ROUNDS = 500
ECHO_SIZE = 64
ROUNDS = 11  # the machine is shared: one round's rate swings by 2x, the median of 11 less
CHUNK = 256 * 1024
NAMESPACE, SEAT_NAME = "bench", "bench-seat-001"


async def _source(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """b"S" + length: stream that many bytes; b"E": echo until the peer goes away."""
    try:
        command = await reader.readexactly(1)
    except asyncio.IncompleteReadError:  # a readiness probe connected and left
        writer.close()
        return
    if command == b"S":
        (remaining,) = struct.unpack(">Q", await reader.readexactly(8))
        block = bytes(CHUNK)
        while remaining > 0:
            writer.write(block[: min(CHUNK, remaining)])
            remaining -= min(CHUNK, remaining)
            await writer.drain()
        await reader.read()  # keep the stream open until the client has it all and leaves
    else:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


def _serve_source(port: int) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_source, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _seat_objects(token: str, websockify_port: int) -> list[tuple[str, dict[str, Any]]]:
    meta = {"name": SEAT_NAME, "namespace": NAMESPACE}
    secret = {"token": token, "vnc-password": "benchpw1", "view-password": "benchpw2"}
    return [
        (SEAT, {"metadata": meta, "spec": {"course": "bench", "id": "seat-001",
                                           "state": "Running"}, "status": {"phase": "Running"}}),
        (SECRET, {"metadata": {**meta, "labels": {"app.kubernetes.io/component": "credentials"}},
                  "data": {k: base64.b64encode(v.encode()).decode() for k, v in secret.items()}}),
        (ENDPOINT_SLICE, {"metadata": {"name": f"{SEAT_NAME}-x", "namespace": NAMESPACE,
                                       "labels": {"kubernetes.io/service-name": SEAT_NAME}},
                          "addressType": "IPv4",
                          "endpoints": [{"addresses": ["127.0.0.1"]}],
                          "ports": [{"name": "novnc", "port": websockify_port}]}),
    ]


def _serve_gateway(port: int, token: str, websockify_port: int) -> None:
    async def main() -> None:
        gw = Gateway(index=SeatIndex(Digester()), starter=_NoStarter())
        for kind, obj in _seat_objects(token, websockify_port):
            gw.index.apply(kind, "ADDED", obj)
        runner = web.AppRunner(create_app(gw), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()

    asyncio.run(main())


class _NoStarter:
    async def request_start(self, seat: object) -> None:
        return None


async def _wait_listening(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


async def _throughput(connect: Any) -> float:
    """MiB/s of one STREAM_BYTES transfer desktop -> browser."""
    ws = await connect()
    started = time.perf_counter()
    await ws.send_bytes(b"S" + struct.pack(">Q", STREAM_BYTES))
    received = 0
    while received < STREAM_BYTES:
        received += len(await ws.receive_bytes(timeout=60))
    elapsed = time.perf_counter() - started
    await ws.close()
    return STREAM_BYTES / elapsed / 2**20


async def _round_trips(connect: Any) -> list[float]:
    """Milliseconds per small-message round trip browser -> desktop -> browser."""
    ws = await connect()
    await ws.send_bytes(b"E")
    payload = bytes(ECHO_SIZE)
    times = []
    for _ in range(ECHO_ROUNDS):
        started = time.perf_counter()
        await ws.send_bytes(payload)
        received = 0
        while received < ECHO_SIZE:
            received += len(await ws.receive_bytes(timeout=10))
        times.append((time.perf_counter() - started) * 1000)
    await ws.close()
    return times


async def _measure(websockify_port: int, gateway_port: int, token: str) -> dict[str, Any]:
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        gateway = f"http://127.0.0.1:{gateway_port}"
        async with session.get(f"{gateway}/s/{token}") as response:
            assert response.status == 200, f"gateway refused the bench token: {response.status}"

        def direct() -> Any:
            return session.ws_connect(f"ws://127.0.0.1:{websockify_port}/websockify",
                                      protocols=("binary",), max_msg_size=0)

        def proxied() -> Any:
            return session.ws_connect(f"{gateway}/seat/{NAMESPACE}/{SEAT_NAME}/websockify",
                                      protocols=("binary",), headers={"Origin": gateway},
                                      max_msg_size=0)

        rates: dict[str, list[float]] = {"direct": [], "gateway": []}
        trips: dict[str, list[float]] = {"direct": [], "gateway": []}
        for _ in range(ROUNDS):
            for name, connect in (("direct", direct), ("gateway", proxied)):
                rates[name].append(await _throughput(connect))
                trips[name] += await _round_trips(connect)
    return _summary(rates, trips)


def _summary(rates: dict[str, list[float]], trips: dict[str, list[float]]) -> dict[str, Any]:
    direct, gateway = statistics.median(rates["direct"]), statistics.median(rates["gateway"])
    p50 = {k: statistics.median(v) for k, v in trips.items()}
    p99 = {k: percentile(v, 99) for k, v in trips.items()}
    return {
        "benchmark": "gateway proxy vs direct websockify: throughput desktop -> browser, "
                     "small-message round trips",
        "throughput_mib_s": {"direct": round(direct, 1), "gateway": round(gateway, 1),
                             "ratio": round(gateway / direct, 3), "target_ratio": 0.8,
                             "samples": {k: [round(x, 1) for x in v] for k, v in rates.items()}},
        "round_trip_ms": {"direct_p50": round(p50["direct"], 3),
                          "gateway_p50": round(p50["gateway"], 3),
                          "direct_p99": round(p99["direct"], 3),
                          "gateway_p99": round(p99["gateway"], 3),
                          "added_p50": round(p50["gateway"] - p50["direct"], 3),
                          "target_added": 1.0},
        "method": f"{ROUNDS} alternating rounds per path of one {STREAM_BYTES // 2**20} MiB "
                  f"stream and {ECHO_ROUNDS} echoes of {ECHO_SIZE} bytes; throughput is the "
                  "median round; source, websockify, gateway and client are separate processes",
    }


def run() -> list[Row]:
    """Measure, write bench/results/gateway.json and return the summary rows."""
    summary = _run_processes()
    write_result("gateway", summary)
    rates, trips = summary["throughput_mib_s"], summary["round_trip_ms"]
    return [
        Row(metric="throughput via gateway / direct", value=rates["ratio"], unit="ratio",
            target=">= 0.8"),
        Row(metric="throughput via gateway", value=rates["gateway"], unit="MiB/s", target=""),
        Row(metric="throughput direct websockify", value=rates["direct"], unit="MiB/s",
            target=""),
        Row(metric="added round trip p50", value=trips["added_p50"], unit="ms",
            target="<= 1"),
    ]


def _run_processes() -> dict[str, Any]:
    binary = shutil.which("websockify")
    if binary is None:
        raise RuntimeError("websockify not found: install the Debian package websockify "
                           "(`make desktop-deps`)")
    load_before = round(os.getloadavg()[0], 2)  # machine_info records the load at the end
    source_port, websockify_port, gateway_port = kit.free_port(), kit.free_port(), kit.free_port()
    token = new_token()
    fork = multiprocessing.get_context("fork")
    source = fork.Process(target=_serve_source, args=(source_port,), daemon=True)
    gateway = fork.Process(target=_serve_gateway, args=(gateway_port, token, websockify_port),
                           daemon=True)
    source.start()
    gateway.start()
    proxy = subprocess.Popen([binary, f"127.0.0.1:{websockify_port}",
                              f"127.0.0.1:{source_port}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def main() -> dict[str, Any]:
        for port in (source_port, websockify_port, gateway_port):
            await _wait_listening(port)
        return await _measure(websockify_port, gateway_port, token)

    try:
        return {**asyncio.run(main()), "load_average_1m_before": load_before}
    finally:
        proxy.terminate()
        proxy.wait(10)
        for process in (gateway, source):
            process.terminate()
            process.join(10)


if __name__ == "__main__":
    print(json.dumps(_run_processes(), indent=2))
