"""examples/org-access.yaml as data, and applying scenario data to a new data dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from crossdock.api.compose import build_server
from crossdock.api.scenario import apply_scenario
from crossdock.service.scenario_model import load_scenario
from crossdock.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "org-access.yaml"


def scenario_data() -> dict[str, Any]:
    """The example scenario as plain data (a fresh copy each time)."""
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return data


def apply_to(directory: Path, data: dict[str, Any]) -> Path:
    """Apply scenario ``data`` to a new data dir ``directory``."""
    server = build_server(Settings(data_dir=directory))
    apply_scenario(server, load_scenario(data), "us-east-1")
    return directory
