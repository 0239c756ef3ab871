"""``crossdock serve``: the registry and its AWS APIs on one port."""

from __future__ import annotations

from pathlib import Path

import click
import uvicorn

from crossdock.settings import Settings, default_data_dir


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that prints the URL it listens on once it is ready."""

    def __init__(self, config: uvicorn.Config, scheme: str) -> None:
        super().__init__(config)
        self._scheme = scheme

    async def startup(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        await super().startup(sockets=sockets)  # type: ignore[arg-type]
        for server in self.servers:
            for sock in server.sockets:
                host, port = sock.getsockname()[:2]
                click.echo(f"crossdock listening on {self._scheme}://{host}:{port}", err=False)


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where metadata and blobs live [default: $XDG_DATA_HOME/crossdock].",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--region", default="us-east-1", show_default=True)
@click.option(
    "--registry-domain",
    default=None,
    help="Serve host-style registry names <account>.dkr.ecr.<region>.<DOMAIN>.",
)
@click.option(
    "--scenario",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Apply this scenario YAML (idempotently) before serving.",
)
@click.option("--tls-cert", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--tls-key", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def serve(
    data_dir: Path | None,
    host: str,
    port: int,
    region: str,
    registry_domain: str | None,
    scenario: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """Run crossdock in the foreground until interrupted."""
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    from crossdock.api.compose import build_app  # the composition root; heavy imports

    settings = Settings(
        data_dir=data_dir or default_data_dir(),
        host=host,
        port=port,
        region=region,
        registry_domain=registry_domain,
        tls_cert=tls_cert,
        tls_key=tls_key,
    )
    app = build_app(settings, scenario=scenario)
    # uvloop and httptools (both dependencies; "auto" falls back to asyncio and h11 where
    # they cannot install): chosen by measurement, see docs/performance.md.
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="auto",
        http="auto",
        log_level="warning",
        access_log=False,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
    )
    _AnnouncingServer(config, settings.scheme).run()  # run() honours the loop choice
