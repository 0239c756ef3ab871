"""The pytest plugin: where the scenario comes from, fixture scope, and staying idle."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARING = ROOT / "examples" / "testing" / "sharing.yaml"


def _run(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_the_plugin_is_loaded_and_idle_unless_asked(tmp_path: Path) -> None:
    (tmp_path / "test_idle.py").write_text(
        textwrap.dedent(
            """
            import sys

            def test_nothing_is_started(request):
                assert request.config.pluginmanager.has_plugin("crossdock")
                assert "crossdock.testing.server" not in sys.modules
                assert "boto3" not in sys.modules
            """
        )
    )
    done = _run(tmp_path, "--strict-markers")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_scenario_from_ini_from_an_override_and_none(tmp_path: Path) -> None:
    shutil.copy(SHARING, tmp_path / "sharing.yaml")
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\naddopts = --strict-markers\ncrossdock_scenario = sharing.yaml\n"
        "crossdock_server_scope = module\n"
    )
    (tmp_path / "test_ini.py").write_text(
        textwrap.dedent(
            """
            PORTS = []

            def test_from_the_ini_file(crossdock_server):
                assert crossdock_server.scenario_file.name == "sharing.yaml"
                crossdock_server.assert_access("222222222222", "pull", "app", True)
                crossdock_server.assert_access("333333333333", "pull", "app", False)
                PORTS.append(crossdock_server.port)

            def test_the_module_shares_one_server(crossdock_server):
                assert PORTS == [crossdock_server.port]
            """
        )
    )
    (tmp_path / "test_override.py").write_text(
        textwrap.dedent(
            """
            import pytest

            @pytest.fixture(scope="module")
            def crossdock_scenario():
                return {"accounts": [{"id": "444444444444", "repositories": [{"name": "solo"}]}]}

            def test_a_scenario_document(crossdock_server):
                crossdock_server.assert_access("444444444444", "push", "solo", True)
                assert crossdock_server.image("solo", "v1") == (
                    f"127.0.0.1:{crossdock_server.port}/444444444444/solo:v1"
                )
            """
        )
    )
    (tmp_path / "test_empty.py").write_text(
        textwrap.dedent(
            """
            import pytest

            @pytest.fixture(scope="module")
            def crossdock_scenario():
                return None

            def test_an_empty_server(crossdock_server):
                assert crossdock_server.scenario_file is None
                with pytest.raises(LookupError, match="no scenario account has a repository"):
                    crossdock_server.repository_arn("app")
            """
        )
    )
    done = _run(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout


def test_a_bad_scope_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\ncrossdock_server_scope = forever\n")
    (tmp_path / "test_scope.py").write_text("def test_it(crossdock_server):\n    pass\n")
    done = _run(tmp_path)
    assert done.returncode != 0
    assert (
        "crossdock_server_scope = forever: use one of function, class, module, package, session"
        in done.stdout + done.stderr
    )
