"""The staff tests' app: one that may send many texts a second."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture
def app(fast_app: Flask) -> Flask:
    """A dev-mode app that may send many texts a second (result texts and staff texts)."""
    return fast_app
