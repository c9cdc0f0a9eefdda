"""The service's clock: one injectable source of wall-clock time.

Everything whose behaviour depends on elapsed time (staff session idling, the login limit's
moving window, session cookie signing) reads the time through a `Clock`, so a test can move
time on by hand instead of sleeping and hoping the machine is fast enough.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: Returns the current time as seconds since the epoch, like time.time().
Clock = Callable[[], float]

system_clock: Clock = time.time
