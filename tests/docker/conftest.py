"""tests/docker/ runs only under `make test-docker` (LGS_TEST_DOCKER=1): it needs a Docker engine and
minutes of image builds, which `make test` on a user's machine must not assume."""

from __future__ import annotations

import os
from pathlib import Path


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    if os.environ.get("LGS_TEST_DOCKER") != "1" and collection_path.name.startswith("test_"):
        return True
    return None
