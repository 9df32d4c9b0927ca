"""`python -m ykt_treasurysim`: serve the treasury simulator on TREASURYSIM_HOST:TREASURYSIM_PORT."""

from __future__ import annotations

import logging

import uvicorn

from .config import Settings
from .main import create_app


def main() -> None:
    settings = Settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


if __name__ == "__main__":
    main()
