"""``crossdock lifecycle run``: apply the repositories' lifecycle policies once.

``crossdock serve`` does the same every ``--lifecycle-interval``; this command runs it now
(from cron, or to see what a policy does with ``--dry-run``). Exit codes: 0 done, 1 a
stored policy could not run or the database failed, 2 a usage error.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from crossdock.cli.db import database_url_option
from crossdock.cli.options import format_option, open_database_or_exit
from crossdock.service.ecr.lifecycle_runner import LifecycleReport, LifecycleRunner

FAILURE = 1
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")


class Duration(click.ParamType[float]):
    """Seconds, or a number with a unit: ``90``, ``90s``, ``30m``, ``1h``, ``7d``."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        """The duration in seconds."""
        if isinstance(value, int | float):
            return float(value)
        found = _DURATION.fullmatch(str(value).strip())
        if found is None:
            self.fail(f"{value!r} is not a duration such as 90s, 30m, 1h or 7d", param, ctx)
        return float(found.group(1)) * _UNITS[found.group(2) or "s"]


DURATION = Duration()


@click.group()
def lifecycle() -> None:
    """ECR lifecycle policies: expire images as the repositories' policies say."""


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_json(report: LifecycleReport) -> dict[str, Any]:
    return {
        "dryRun": report.dry_run,
        "expired": report.expired,
        "repositories": [
            {
                "registryId": run.account_id,
                "region": run.region,
                "repositoryName": run.name,
                "error": run.error,
                "images": [
                    {
                        "imageDigest": i.expiry.image.digest,
                        "imageTags": list(i.expiry.image.tags),
                        "imagePushedAt": i.expiry.image.pushed_at,
                        "appliedRulePriority": i.expiry.rule_priority,
                        "outcome": i.outcome.value,
                    }
                    for i in run.images
                ],
            }
            for run in report.repositories
        ],
    }


def _print_text(report: LifecycleReport) -> None:
    for run in report.repositories:
        where = f"{run.account_id}/{run.region}/{run.name}"
        if run.error is not None:
            click.echo(f"{where}: error: {run.error}")
            continue
        click.echo(f"{where}: {len(run.images)} image(s) selected by the policy")
        for item in run.images:
            image = item.expiry.image
            tags = ", ".join(image.tags) or "untagged"
            click.echo(
                f"  {item.outcome.value}: {image.digest} [{tags}] pushed {_when(image.pushed_at)}"
                f" (rule {item.expiry.rule_priority})"
            )
    if report.dry_run:
        total, verb = sum(len(r.images) for r in report.repositories), "would expire"
    else:
        total, verb = report.expired, "expired"
    click.echo(f"{verb} {total} image(s) in {len(report.repositories)} repository(ies)")


@lifecycle.command("run")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The data dir [default: $XDG_DATA_HOME/crossdock].",
)
@database_url_option
@click.option("--dry-run", is_flag=True, help="Show what would expire; delete nothing.")
@click.option("--repository", "repository", default=None, help="Only repositories of this name.")
@click.option("--account", "account_id", default=None, help="Only repositories of this account.")
@format_option
def run(
    data_dir: Path | None,
    database_url: str | None,
    dry_run: bool,
    repository: str | None,
    account_id: str | None,
    output_format: str,
) -> None:
    """Evaluate every lifecycle policy now and expire the images it selects."""
    from crossdock.api.ecr.services import ecr_stores
    from crossdock.storage.data_dir import BLOB_DIR_NAME
    from crossdock.storage.errors import StorageUnavailableError

    directory, engine = open_database_or_exit(data_dir, database_url)
    try:
        runner = LifecycleRunner(ecr_stores(engine, directory / BLOB_DIR_NAME), _now)
        report = runner.run(dry_run=dry_run, repository=repository, account_id=account_id)
    except StorageUnavailableError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(FAILURE)
    finally:
        engine.dispose()
    if output_format == "json":
        click.echo(json.dumps(_as_json(report), indent=2))
    else:
        _print_text(report)
    if any(r.error is not None for r in report.repositories):
        sys.exit(FAILURE)


def _now() -> datetime:
    return datetime.now(UTC)
