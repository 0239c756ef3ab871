"""``python -m crossdock`` runs the command-line interface."""

from __future__ import annotations

from crossdock.cli.main import main

if __name__ == "__main__":
    main()
