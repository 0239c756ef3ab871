"""``crossdock serve``: the registry and its AWS APIs on one port."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import uvicorn

from crossdock.cli.db import database_url_option
from crossdock.cli.lifecycle import DURATION
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


def _check_blob_store(context: click.Context, parameter: object, value: str | None) -> str | None:
    if value is not None:
        from crossdock.storage.s3_location import BlobStoreUrlError, parse_s3_url

        try:
            parse_s3_url(value)
        except BlobStoreUrlError as error:
            raise click.BadParameter(str(error)) from None
    return value


def _build(build: Callable[..., object], settings: Settings, scenario: Path | None) -> Any:
    """Build the app; a database that is unusable at start is one line, not a traceback."""
    from crossdock.storage.errors import StorageUnavailableError
    from crossdock.storage.secrets import SecretBoxError
    from crossdock.storage.sql.dialect import DatabaseUrlError

    try:
        return build(settings, scenario=scenario)
    except DatabaseUrlError as error:
        raise click.BadParameter(str(error), param_hint="--database-url") from None
    except StorageUnavailableError as error:
        raise click.ClickException(f"cannot open the database: {error}") from None
    except SecretBoxError as error:  # nodes sharing a database need one key (--key-file)
        raise click.ClickException(str(error)) from None


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
@click.option(
    "--token-ttl",
    type=click.IntRange(1, 43_200),
    default=43_200,
    show_default=True,
    help="Seconds a GetAuthorizationToken token stays valid (ECR: 12 hours).",
)
@click.option(
    "--trail-retention-days",
    type=click.IntRange(1, 3650),
    default=30,
    show_default=True,
    help="Days of decision trail to keep (docs/trail.md); older day files are deleted.",
)
@click.option(
    "--no-trail", is_flag=True, help="Do not record authorization decisions (docs/trail.md)."
)
@click.option(
    "--lifecycle-interval",
    type=DURATION,
    default="1h",
    show_default=True,
    help="How often to apply the repositories' lifecycle policies (90s, 30m, 1h); 0: never.",
)
@database_url_option
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The secret key file; nodes sharing a database need the same one (docs/deploy.md) "
    "[default: DATA_DIR/secret.key].",
)
@click.option(
    "--blob-store",
    default=None,
    metavar="URL",
    callback=_check_blob_store,
    help="Keep blobs in S3: s3://BUCKET/PREFIX?endpoint=URL&region=R (docs/deploy.md) "
    "[default: DATA_DIR/blobs].",
)
@click.option(
    "--blob-proxy",
    is_flag=True,
    help="Stream S3 blobs through crossdock instead of redirecting clients to presigned URLs.",
)
@click.option(
    "--gc-interval",
    type=DURATION,
    default=None,
    help="Collect garbage this often in the background (30m, 1h; docs/gc.md) [default: never].",
)
@click.option(
    "--gc-grace",
    type=DURATION,
    default="1h",
    show_default=True,
    help="Keep unused blobs, links and uploads this long after their last use (docs/gc.md).",
)
def serve(
    data_dir: Path | None,
    host: str,
    port: int,
    region: str,
    registry_domain: str | None,
    scenario: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    token_ttl: int,
    trail_retention_days: int,
    no_trail: bool,
    lifecycle_interval: float,
    database_url: str | None,
    key_file: Path | None,
    blob_store: str | None,
    blob_proxy: bool,
    gc_interval: float | None,
    gc_grace: float,
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
        token_ttl=token_ttl,
        trail=not no_trail,
        trail_retention_days=trail_retention_days,
        lifecycle_interval=lifecycle_interval,
        database_url=database_url,
        key_file=key_file,
        blob_store=blob_store,
        blob_proxy=blob_proxy,
        gc_interval=gc_interval or None,
        gc_grace=gc_grace,
    )
    app = _build(build_app, settings, scenario)
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
