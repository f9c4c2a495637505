"""Dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from config.settings import Settings, get_settings

# The process's settings, handed to domain functions (they never fetch them themselves).
AppSettings = Annotated[Settings, Depends(get_settings)]
