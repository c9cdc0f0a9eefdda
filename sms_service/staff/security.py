"""The staff pages' guards, created once and bound to each app by init_app."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

# A moving window: failures straddling a window's edge are still counted together.
limiter = Limiter(key_func=get_remote_address, strategy="moving-window")
csrf = CSRFProtect()
login_manager = LoginManager()
