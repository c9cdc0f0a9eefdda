"""Start a command: read the settings or build the app, or stop naming what is wrong."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from flask import Flask

from ..config import ConfigError, Settings, load_settings
from ..engine import FlowError
from ..redis_conn import WEB, Timeouts


def fail(message: str) -> NoReturn:
    """Print the message to standard error and exit with status 2."""
    click.echo(f"sms-screener: {message}", err=True)
    sys.exit(2)


def read_settings() -> Settings:
    """Load the settings, or fail naming the bad one."""
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc))


def build_app(redis_timeouts: Timeouts = WEB) -> Flask:
    """Create the app, or fail naming the bad setting or flow."""
    from .. import create_app

    try:
        return create_app(redis_timeouts=redis_timeouts)
    except (ConfigError, FlowError) as exc:
        fail(str(exc))
