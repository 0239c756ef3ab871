#!/usr/bin/env python3
"""Serve crossdock's app with one fixed ASGI server set-up, for ``benchmarks/api_calls.py``.

``crossdock serve`` uses whatever its server picks by default (uvicorn's ``auto`` loop
and HTTP parser depend on what is installed). To choose the server by measurement, each
set-up here pins every choice that matters, and serves the same app that ``crossdock
serve`` builds (``crossdock.api.compose.build_app``), after applying the scenario::

    python benchmarks/asgi_variants.py granian --data-dir D --port P --scenario F

* ``uvicorn-h11``: uvicorn, asyncio loop, h11 parser (plain ``pip install uvicorn``);
* ``uvicorn-std``: uvicorn, uvloop, httptools (``uvicorn[standard]``);
* ``granian``: granian, one worker process, asyncio loop, HTTP/1 only;
* ``granian-uvloop``: the same with uvloop.

It prints ``crossdock listening on URL`` once the port accepts connections. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from crossdock.settings import Settings

VARIANTS = ("uvicorn-h11", "uvicorn-std", "granian", "granian-uvloop")
_ENV = "CROSSDOCK_BENCH_SETTINGS"


def _settings(data_dir: Path, port: int) -> Settings:
    return Settings(data_dir=data_dir, host="127.0.0.1", port=port)


def app_factory() -> Any:
    """Granian's ``--factory`` target: the app for the settings in the environment."""
    from crossdock.api.compose import build_app

    data_dir, port = os.environ[_ENV].rsplit(":", 1)
    return build_app(_settings(Path(data_dir), int(port)))


def _uvicorn(app: Any, port: int, loop: str, http: str) -> None:
    import uvicorn

    class Announcing(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            print(f"crossdock listening on http://127.0.0.1:{port}", flush=True)

    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, loop=loop, http=http, log_level="warning"
    )
    config.access_log = False
    server = Announcing(config)
    if loop == "uvloop":
        import uvloop

        uvloop.run(server.serve())
    else:
        asyncio.run(server.serve())


def _granian(data_dir: Path, port: int, loop: str) -> None:
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.log import LogLevels
    from granian.server import Server

    os.environ[_ENV] = f"{data_dir}:{port}"
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    server = Server(
        "asgi_variants:app_factory",
        address="127.0.0.1",
        port=port,
        interface=Interfaces.ASGI,
        workers=1,
        loop=Loops(loop),
        http=HTTPModes.http1,
        log_level=LogLevels.warning,
        factory=True,
    )
    server.on_startup(lambda: print(f"crossdock listening on http://127.0.0.1:{port}", flush=True))
    server.serve()


def main() -> None:
    """Apply the scenario, then serve with the chosen set-up until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--scenario", type=Path, default=None)
    args = parser.parse_args()
    from crossdock.api.compose import build_app

    settings = _settings(args.data_dir, args.port)
    if args.variant.startswith("granian"):
        if args.scenario is not None:  # offline, so no open database crosses the fork
            command = [sys.executable, "-m", "crossdock", "scenario", "apply", str(args.scenario)]
            subprocess.run([*command, "--data-dir", str(args.data_dir)], check=True)
        loop = "uvloop" if args.variant.endswith("uvloop") else "asyncio"
        _granian(args.data_dir, args.port, loop)
        return
    app = build_app(settings, scenario=args.scenario)
    if args.variant == "uvicorn-std":
        _uvicorn(app, args.port, "uvloop", "httptools")
    else:
        _uvicorn(app, args.port, "asyncio", "h11")


if __name__ == "__main__":
    main()
