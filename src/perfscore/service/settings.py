"""The service's settings: where it stores, and the limits it keeps."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from typing import Any, Final

__all__ = ["ENV", "ServiceSettings"]

#: The environment variable that carries the settings to worker processes.
ENV: Final = "PERFSCORE_SERVICE_SETTINGS"


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """Everything ``perfscore serve`` can be told. The limits are per request unless said.

    ``db_url``: ``sqlite:///FILE`` (the default, ``perfscore.db`` in the working folder)
    or ``postgresql://USER:PASSWORD@HOST/DB``. ``allow_shipped``: tenants may score with,
    extend and use the rubrics shipped with perfscore (``perfscore:NAME``).
    """

    db_url: str = "sqlite:///perfscore.db"
    allow_shipped: bool = True
    max_body_bytes: int = 1024 * 1024
    max_batch_bytes: int = 64 * 1024 * 1024
    max_batch_rows: int = 100_000
    max_population_rows: int = 10_000
    rate_per_second: float = 500.0
    rate_burst: int = 1000
    request_seconds: float = 30.0
    compiled_cache: int = 256

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServiceSettings:
        raw = os.environ.get(ENV)
        if not raw:
            return cls()
        data: dict[str, Any] = json.loads(raw)
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
