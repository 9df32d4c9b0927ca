"""`python -m ykt_disclosure` runs the service; `python -m ykt_disclosure rebuild [--replace]`
rebuilds the read model from the event stream (see `rebuild.py`)."""

from __future__ import annotations

import sys

import uvicorn

from .config import Settings
from .main import create_app


def main() -> None:
    if sys.argv[1:2] == ["rebuild"]:
        from .rebuild import cli

        sys.exit(cli(sys.argv[2:]))
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
