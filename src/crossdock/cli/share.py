"""``crossdock share`` and ``crossdock unshare``: write (or remove) both sides of a grant.

An API client (boto3), so it works against a crossdock server (``--endpoint-url`` or
``$CROSSDOCK_ENDPOINT_URL``) and against AWS. Credentials: ``--profile`` (the owner) and
``--to-profile`` (the consumer), else boto3's chain; with ``--data-dir`` the accounts' root
keys that crossdock holds stand in for missing profiles, and simulated decisions use the
server's own stores. The logic lives in ``crossdock.service.share*``; this module wires
sessions and prints. Exit status: 0 done (or nothing to do), 1 a side failed (rolled
back) or a conflict, 2 bad input.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.text import Text

from crossdock.auth.principal import Principal
from crossdock.cli.options import format_option
from crossdock.cli.registry_auth import endpoint_from_env
from crossdock.core.arn import is_account_id
from crossdock.service.authz import Authorizer, PolicyDocument, PolicySource, RequestInfo
from crossdock.service.share import (
    IdentityMode,
    IdentitySide,
    SharePlan,
    ShareSideError,
    apply,
    plan,
)
from crossdock.service.share_aws import EcrRepositorySide, IamIdentitySide, describe
from crossdock.service.share_local import (
    AccessKey,
    account_known,
    organization_members,
    principal_exists,
    root_key,
    stored_principal,
    user_key,
    utc_now,
)
from crossdock.service.share_policy import (
    RepositoryRef,
    ShareConflictError,
    ShareInputError,
    ShareRequest,
    TargetKind,
    make_request,
    parse_target,
)
from crossdock.service.share_report import Line, ShareReport
from crossdock.service.share_simulate import (
    IdentityOverlay,
    SharePolicySource,
    prove,
    resolve_principals,
    subjects,
)
from crossdock.service.share_verify import verify_pull
from crossdock.storage.identity_store import IdentityStores
from crossdock.storage.secrets import SecretBox

FAILURE = 1
USAGE_ERROR = 2
DEFAULT_REGION = "us-east-1"


def _fail(message: str, code: int = USAGE_ERROR) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@dataclass
class _Local:
    """The data dir's stores, when ``--data-dir`` was given."""

    stores: IdentityStores
    box: SecretBox
    source: PolicySource


@contextmanager
def _open_local(data_dir: Path | None) -> Iterator[_Local | None]:
    if data_dir is None:
        yield None
        return
    from crossdock.api.ecr.services import ecr_lookup, ecr_stores
    from crossdock.service.authz import ResourceLookup, StorePolicySource
    from crossdock.service.principal_policies import IamResourceLookup, IdentityPolicyLoader
    from crossdock.storage.data_dir import BLOB_DIR_NAME, open_existing_data_dir
    from crossdock.storage.errors import DataDirError
    from crossdock.storage.secrets import KEY_FILE_NAME
    from crossdock.storage.sql.identity_stores import sql_identity_stores

    try:
        engine = open_existing_data_dir(data_dir)
    except DataDirError as error:
        _fail(f"{error}; pass the --data-dir of the crossdock server")
    try:
        if not (data_dir / KEY_FILE_NAME).is_file():
            _fail(f"`{data_dir}` has no {KEY_FILE_NAME}: it is not a crossdock data dir")
        stores = sql_identity_stores(engine)
        lookups: dict[str, ResourceLookup] = {
            "iam": IamResourceLookup(stores),
            "ecr": ecr_lookup(ecr_stores(engine, data_dir / BLOB_DIR_NAME)),
        }
        source = StorePolicySource(IdentityPolicyLoader(stores), lookups)
        yield _Local(stores, SecretBox.from_key_file(data_dir / KEY_FILE_NAME), source)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class _Sessions:
    """Where the API calls go and as whom."""

    endpoint: str | None
    region: str | None

    def session(self, profile: str | None, key: AccessKey | None) -> Any:
        """A boto3 session for ``profile``, or for ``key``, or boto3's default chain."""
        import boto3
        from botocore.exceptions import ProfileNotFound

        try:
            if profile is not None:
                return boto3.session.Session(profile_name=profile, region_name=self.region)
        except ProfileNotFound:
            _fail(
                f"the AWS profile `{profile}` does not exist: list profiles with"
                " `aws configure list-profiles`"
            )
        if key is not None:
            return boto3.session.Session(
                aws_access_key_id=key.access_key_id,
                aws_secret_access_key=key.secret_access_key,
                region_name=self.region,
            )
        return boto3.session.Session(region_name=self.region)

    def client(self, session: Any, service: str) -> Any:
        """A client of ``service`` at the endpoint (boto3 decides without one)."""
        from botocore.config import Config

        config = Config(retries={"max_attempts": 2, "mode": "standard"})
        region = session.region_name or DEFAULT_REGION
        return session.client(
            service, endpoint_url=self.endpoint, region_name=region, config=config
        )


def _caller_account(sessions: _Sessions, session: Any, who: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        identity = sessions.client(session, "sts").get_caller_identity()
    except (ClientError, BotoCoreError) as error:
        _fail(f"cannot sign in as {who}: {describe(error)}", FAILURE)
    return str(identity["Account"])


def _check_local(local: _Local, request: ShareRequest) -> None:
    """Unknown accounts and principals are bad input when the data dir can tell."""
    owner = request.repository.account
    if not account_known(local.stores, owner):
        _fail(f"the account {owner} (--from) does not exist in the data dir: check --from")
    target = request.target
    if target is not None and not principal_exists(local.stores, target):
        what = "account" if target.kind is TargetKind.ACCOUNT else target.kind.value
        _fail(f"the {what} `{target.value}` (--to) does not exist in the data dir: check --to")
    account = request.lambda_account
    if account is not None and not account_known(local.stores, account):
        _fail(f"the function's account {account} does not exist in the data dir")


def _owner_session(
    sessions: _Sessions, profile: str | None, local: _Local | None, owner: str
) -> Any:
    """The owner's session (not yet used): ``--profile``, the data dir's root key, or
    boto3's chain."""
    key = None
    if local is not None and not account_known(local.stores, owner):
        _fail(f"the account {owner} (--from) does not exist in the data dir: check --from")
    if profile is None and local is not None:
        key = root_key(local.stores, local.box, owner)
        if key is None:
            _fail(f"the data dir holds no active root key of {owner}: pass --profile")
    return sessions.session(profile, key)


def _check_owner(sessions: _Sessions, session: Any, owner: str) -> None:
    account = _caller_account(sessions, session, f"the owner {owner}")
    if account != owner:
        _fail(f"the owner's credentials belong to {account}, not to --from {owner}")


def _consumer_session(
    sessions: _Sessions,
    profile: str | None,
    local: _Local | None,
    account: str | None,
    *,
    pull_as: str | None = None,
) -> Any | None:
    """The consumer's session: ``--to-profile``, else a key the data dir holds (the user
    ``pull_as``'s own key when asked for and present, else the account root's)."""
    if profile is not None:
        session = sessions.session(profile, None)
        found = _caller_account(sessions, session, "the consumer (--to-profile)")
        if account is not None and found != account:
            _fail(f"the --to-profile credentials belong to {found}, not to {account}")
        return session
    if local is None or account is None:
        return None
    key = user_key(local.stores, local.box, account, pull_as) if pull_as else None
    key = key or root_key(local.stores, local.box, account)
    return None if key is None else sessions.session(None, key)


def _overlay_source(
    report_plan: SharePlan,
    local: _Local | None,
    dry_run: bool,
    repository_text: str | None,
) -> SharePolicySource:
    """The policies a proof should see: the server's stores with the plan laid over what
    they do not hold yet, or, without a data dir, the plan's policies alone."""
    request, grant = report_plan.request, report_plan.identity_grant
    overlay_repository = local is None or dry_run
    identity: list[IdentityOverlay] = []
    target = request.target
    if grant is not None and target is not None and target.entity_name is not None:
        owner = target.value
        if target.kind is TargetKind.SESSION:
            owner = f"arn:aws:iam::{target.account}:role/{target.entity_name}"
        if local is not None and target.kind is not TargetKind.SESSION:
            stored = stored_principal(local.stores, target.value, utc_now())
            if stored is not None and stored.session is not None:
                owner = stored.session.role_arn
        printed = report_plan.identity_mode is IdentityMode.PRINT
        if local is None or dry_run or printed:
            document = PolicyDocument(grant.arn, json.dumps(grant.document))
            identity.append(IdentityOverlay(owner, document, remove=report_plan.unshare))
    return SharePolicySource(
        local.source if local is not None else None,
        request.repository,
        overlay_repository=overlay_repository,
        repository_text=repository_text,
        identity=identity,
    )


def _simulate(
    report: ShareReport, local: _Local | None, repository_text: str | None, region: str
) -> None:
    plan_ = report.plan
    request = plan_.request
    members: list[str] = []
    target = request.target
    if target is not None and target.kind is TargetKind.ORGANIZATION:
        if local is None:
            report.proof_notes.append(
                "organization members are known only to the server: pass --data-dir to"
                " simulate their decisions"
            )
            return
        members = organization_members(local.stores, target.value)
    now = utc_now()
    stored: Callable[[str], Principal | None] | None = None
    if local is not None:
        stores = local.stores

        def stored(arn: str) -> Principal | None:
            return stored_principal(stores, arn, now)

    principals = resolve_principals(subjects(request, members), now, stored)
    source = _overlay_source(plan_, local, report.dry_run, repository_text)
    info = RequestInfo("127.0.0.1", True, "crossdock-share", now, region)
    report.proofs = prove(Authorizer(source), request, principals, info)
    if local is None:
        report.proof_notes.append(
            "without --data-dir only these policies are known: the consumer's other"
            " identity policies, boundaries and SCPs are not part of this simulation"
        )
    if plan_.identity_mode is IdentityMode.PRINT and not plan_.unshare:
        report.proof_notes.append("assuming the consumer's administrator attaches the policy")


def _verify(
    report: ShareReport,
    sessions: _Sessions,
    owner_side: EcrRepositorySide,
    consumer: Any | None,
) -> None:
    request = report.plan.request
    if report.dry_run:
        report.check_note = "skipped in a dry run"
        return
    if request.lambda_arn is not None:
        report.check_note = "skipped: only Lambda itself pulls as lambda.amazonaws.com"
        return
    if consumer is None:
        report.check_note = (
            "skipped: crossdock holds no credentials of the consumer: pass --to-profile"
        )
        return
    try:
        reference = owner_side.image_reference(request.repository)
    except ShareSideError as error:
        report.check_note = f"could not list the images: {error}"
        return
    if reference is None:
        report.check_note = "the repository has no image to pull yet: push one and verify again"
        return
    report.check = verify_pull(sessions.client(consumer, "ecr"), request.repository, reference)


def _print_lines(lines: list[Line]) -> None:
    if not sys.stdout.isatty():
        for line, _ in lines:
            click.echo(line)
        return
    console = Console(highlight=False, soft_wrap=True)
    for line, style in lines:
        console.print(Text(line, style=style))


def _run(
    command: str,
    repository: str,
    from_account: str,
    to: str | None,
    push: bool,
    lambda_arn: str | None,
    dry_run: bool,
    verify: bool,
    output_format: str,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
    to_profile: str | None,
    data_dir: Path | None,
) -> None:
    if not is_account_id(from_account):
        _fail(f"`{from_account}` (--from) is not an account id: use exactly 12 digits")
    endpoint = endpoint_from_env(endpoint_url)
    if data_dir is not None and endpoint is None:
        _fail("--data-dir needs --endpoint-url: the crossdock server that serves that data dir")
    sessions = _Sessions(endpoint, region)
    if to is not None:
        try:
            parse_target(to)
        except ShareInputError as error:
            _fail(str(error))
    with _open_local(data_dir) as local:
        owner = _owner_session(sessions, profile, local, from_account)
        resolved_region = region or owner.region_name or DEFAULT_REGION
        sessions = _Sessions(endpoint, resolved_region)
        try:
            request = make_request(
                RepositoryRef(from_account, resolved_region, repository), to, push, lambda_arn
            )
        except ShareInputError as error:
            _fail(str(error))
        if local is not None:
            _check_local(local, request)
        _check_owner(sessions, owner, from_account)
        target = request.target
        organization = target is not None and target.kind is TargetKind.ORGANIZATION
        consumer_account = request.consumer_account
        admin = None
        if not organization and consumer_account != from_account:
            admin = _consumer_session(sessions, to_profile, local, consumer_account)
        repo_side = EcrRepositorySide(sessions.client(owner, "ecr"))
        identity: IdentitySide | None = (
            None if admin is None else IamIdentitySide(sessions.client(admin, "iam"))
        )
        try:
            planned = plan(request, repo_side, identity, unshare=command == "unshare")
        except ShareSideError as error:
            _fail(str(error), FAILURE)
        except ShareConflictError as error:
            _fail(str(error), FAILURE)
        report = ShareReport(command, planned, dry_run)
        repository_text = (
            None if planned.repository.after is None else json.dumps(planned.repository.after)
        )
        if not dry_run and planned.changed:
            report.result = apply(planned, repo_side, identity)
        if not report.failed:
            if not dry_run and local is None and report.result is not None:
                # Prove with what the owner's registry stores now, not with what was sent.
                try:
                    repository_text = repo_side.get_policy(request.repository)
                except ShareSideError as error:
                    report.proof_notes.append(f"could not read the policy back: {error}")
            _simulate(report, local, repository_text, resolved_region)
            if verify:
                pull_as = target.entity_name if target and target.kind is TargetKind.USER else None
                consumer = (
                    None
                    if organization and to_profile is None
                    else _consumer_session(
                        sessions, to_profile, local, consumer_account, pull_as=pull_as
                    )
                )
                _verify(report, sessions, repo_side, consumer)
    if output_format == "json":
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_lines(report.lines())
    failed_check = report.check is not None and not report.check.ok and command == "share"
    if report.failed or failed_check:
        sys.exit(FAILURE)


def _options(function: Callable[..., None]) -> Callable[..., None]:
    options = [
        click.argument("repository"),
        click.option("--from", "from_account", required=True, help="The owner account id."),
        click.option(
            "--to", default=None, help="The consumer: an account id, o-... or a principal ARN."
        ),
        click.option("--push", is_flag=True, help="Share push as well as pull."),
        click.option(
            "--lambda",
            "lambda_arn",
            default=None,
            metavar="FUNCTION-ARN",
            help="Let Lambda functions of this function's account use the image.",
        ),
        click.option("--dry-run", is_flag=True, help="Show the diffs; write nothing."),
        click.option(
            "--verify", is_flag=True, help="Also pull the manifest for real, as the consumer."
        ),
        format_option,
        click.option(
            "--region",
            default=None,
            help="The repository's region [default: the profile's, else us-east-1].",
        ),
        click.option(
            "--endpoint-url",
            default=None,
            help="A crossdock server [default: $CROSSDOCK_ENDPOINT_URL, else AWS].",
        ),
        click.option("--profile", default=None, help="The owner's AWS profile."),
        click.option("--to-profile", default=None, help="The consumer's AWS profile."),
        click.option(
            "--data-dir",
            type=click.Path(path_type=Path),
            default=None,
            help="The crossdock server's data dir: its root keys and its policies.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.command("share")
@_options
def share(**arguments: Any) -> None:
    """Share REPOSITORY: merge a statement into its policy and write the consumer's side."""
    _run("share", **arguments)


@click.command("unshare")
@_options
def unshare(**arguments: Any) -> None:
    """Remove exactly what `crossdock share` with the same arguments added."""
    _run("unshare", **arguments)
