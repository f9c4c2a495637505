"""Dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from config.settings import Settings, get_settings


async def _settings() -> Settings:
    # Async on purpose: FastAPI calls a sync dependency in the thread pool, a trip each
    # request for a cached value (bench/README.md, articles API).
    return get_settings()


# The process's settings, handed to domain functions (they never fetch them themselves).
AppSettings = Annotated[Settings, Depends(_settings)]
