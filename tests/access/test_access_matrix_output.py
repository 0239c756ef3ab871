"""``crossdock access-matrix``: text, SVG, self-contained HTML and JSON, matching who-can."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from crossdock.cli.main import cli
from crossdock.service.access.context import AccessContext
from crossdock.service.access.who_can import who_can
from crossdock.service.ecr.common import RepositoryRef

SVG = "{http://www.w3.org/2000/svg}"


def _write(org_dir: Path, output: Path, *extra: str) -> Path:
    result = CliRunner().invoke(
        cli, ["access-matrix", "--data-dir", str(org_dir), "--output", str(output), *extra]
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {output}\n"
    return output


def test_json_matches_who_can(org: AccessContext, org_dir: Path, tmp_path: Path) -> None:
    matrix = json.loads(_write(org_dir, tmp_path / "m.json").read_text(encoding="utf-8"))
    assert matrix["accounts"] == ["111111111111", "222222222222", "333333333333"]
    assert [r["name"] for r in matrix["repositories"]] == ["app", "locked", "tools"]
    for repository in matrix["repositories"]:
        ref = RepositoryRef(repository["account"], repository["region"], repository["name"])
        for verb in ("pull", "push"):
            expected = {e.principal.arn: e.access.value for e in who_can(org, verb, ref).entries}
            found = {
                cell["principal"]: cell[verb]
                for cell in matrix["cells"]
                if cell["repository"] == repository["arn"] and cell[verb] != "denied"
            }
            assert found == expected, (repository["name"], verb)


def test_svg_is_well_formed_with_one_cell_per_pair(org_dir: Path, tmp_path: Path) -> None:
    root = ET.parse(_write(org_dir, tmp_path / "m.svg", "--accounts", "111111111111")).getroot()
    assert root.tag == f"{SVG}svg"
    cells = list(root.iter(f"{SVG}g"))
    # 111111111111: root, admin, intern, deployer × app, locked, tools
    assert len(cells) == 4 * 3
    labels = {g.findtext(f"{SVG}title"): g.findtext(f"{SVG}text") for g in cells}
    admin_app = "arn:aws:iam::111111111111:user/admin on "
    admin_app += "arn:aws:ecr:us-east-1:111111111111:repository/app: pull+push"
    assert labels[admin_app] == "pull+push"
    intern = [v for k, v in labels.items() if k and ":user/intern on " in k]
    assert intern == ["none"] * 3


def test_html_is_self_contained(org_dir: Path, tmp_path: Path) -> None:
    page = _write(org_dir, tmp_path / "m.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://|//[a-z0-9]|<script|<link|src=|@import|url\(", page)
    assert '<td class="pull conditional">pull?</td>' in page  # office and platform
    assert '<tr class="account"><th colspan="4">account 333333333333</th></tr>' in page


def test_text_table_groups_principals_by_account(org_dir: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["access-matrix", "--data-dir", str(org_dir), "--accounts", "111111111111,222222222222"],
    )
    assert result.exit_code == 0, result.output
    rows = [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in result.output.splitlines()
        if line.startswith("│")
    ]
    # Hand-computed from the scenario (see test_access_who_can.py): app, locked, tools.
    assert rows == [
        ["account 111111111111", "", "", ""],
        ["account root", "pull+push", "pull+push", "pull+push"],
        ["user admin", "pull+push", "pull+push", "pull+push"],
        ["user intern", "none", "none", "none"],
        ["any session of role deployer", "pull", "pull", "pull"],
        ["account 222222222222", "", "", ""],
        ["account root", "pull", "pull", "none"],
        ["user nologin", "none", "none", "none"],
        ["user office", "pull?", "pull?", "none"],
        ["user puller", "pull", "none", "none"],
        ["user visitor", "none", "none", "none"],
        ["any session of role ci", "pull+push", "pull", "none"],
        ["any session of role platform", "pull?", "pull?", "none"],
        ["any session of role restricted", "none", "none", "none"],
    ]


def test_unknown_output_suffix_is_a_usage_error(org_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["access-matrix", "--data-dir", str(org_dir), "--output", str(tmp_path / "m.png")]
    )
    assert result.exit_code == 2
    assert result.output == (
        f"error: cannot write `{tmp_path / 'm.png'}`: name it FILE.svg, FILE.html or FILE.json\n"
    )
