"""matplotlib's pyplot, with a backend that works where there is no display.

On a machine with no display (no ``$DISPLAY`` or ``$WAYLAND_DISPLAY`` on
Linux) and no backend chosen by the user (``$MPLBACKEND``), the
non-interactive Agg backend is selected before pyplot is first imported, so
figures render to files on servers and in CI. matplotlib is imported on the
first call, never at import time.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["headless", "pyplot"]


def headless() -> bool:
    """Whether pyplot should be given the Agg backend: no display, and no backend chosen."""
    if os.environ.get("MPLBACKEND"):
        return False  # the user chose
    if sys.platform.startswith("linux"):
        return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return False  # macOS and Windows always have a native backend


def pyplot() -> Any:
    """matplotlib.pyplot, with the Agg backend selected first when there is no display."""
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules and headless():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
