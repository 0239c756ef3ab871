#!/usr/bin/env python3
"""A TCP load balancer for benchmarks: 127.0.0.1:PORT, connections dealt round-robin.

    python benchmarks/tcp_round_robin.py --port 0 --backend 127.0.0.1:5001 --backend ...

Each accepted connection goes to the next backend in turn and is spliced both ways until
either side closes; nothing is parsed (so HTTP keep-alive pins a client connection to one
backend, like an AWS Network Load Balancer). Prints ``listening on 127.0.0.1:PORT`` once
ready (``--port 0``: a free port) and runs until SIGTERM/SIGINT. Uses uvloop when it is
installed. Loopback only, for ``scaleout_bench.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal
import sys
from collections.abc import Iterator

CHUNK = 256 * 1024


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(CHUNK):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            if writer.can_write_eof():
                writer.write_eof()


async def _splice(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    backend: tuple[str, int],
) -> None:
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(*backend)
    except OSError:
        client_writer.close()
        return
    try:
        await asyncio.gather(
            _pump(client_reader, upstream_writer), _pump(upstream_reader, client_writer)
        )
    finally:
        for writer in (client_writer, upstream_writer):
            writer.close()


def _backend(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        raise argparse.ArgumentTypeError(f"{text}: only 127.0.0.1 backends")
    return host, int(port)


async def serve(port: int, backends: list[tuple[str, int]]) -> None:
    """Listen on 127.0.0.1:``port`` and deal connections to ``backends`` until stopped."""
    turn: Iterator[tuple[str, int]] = itertools.cycle(backends)

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _splice(reader, writer, next(turn))

    server = await asyncio.start_server(accept, "127.0.0.1", port, backlog=1024)
    bound = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{bound}", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    async with server:
        await stopped.wait()


def main() -> None:
    """Parse the arguments and run the balancer."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--backend", type=_backend, action="append", required=True)
    args = parser.parse_args()
    try:
        import uvloop  # type: ignore[import-not-found,unused-ignore]

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(args.port, args.backend))
    sys.exit(0)


if __name__ == "__main__":
    main()
