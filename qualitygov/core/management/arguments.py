"""Argument types shared by the management commands."""

from __future__ import annotations

import argparse
import datetime as dt


def iso_date(value: str) -> dt.date:
    """An ``argparse`` type for a ``YYYY-MM-DD`` date; argparse reports anything else as a usage error
    with a clear Chinese message (exit status 2)."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期“{value}”无效：应为 YYYY-MM-DD。") from None
