"""The RQ worker the service runs: a dead worker's job is taken up within a stated bound.

RQ counts a running job as abandoned 60 s after its worker's last heartbeat was due, and a
killed worker's scheduler keeps its queue's lock 61 s, so the abandoned job's retry waited
for it: a killed worker's text waited up to 99 s. Here both wait `heartbeat_grace` instead.
"""

from __future__ import annotations

from typing import Any

from rq import Worker
from rq.job import Job
from rq.scheduler import RQScheduler

#: Seconds between a running job's heartbeats (RQ's default is 30).
DEFAULT_JOB_MONITORING_INTERVAL = 10
#: Seconds a heartbeat may be late before its job counts as abandoned (RQ's floor: 60).
DEFAULT_HEARTBEAT_GRACE = 15
#: Seconds between a worker's checks for jobs that a dead worker left behind.
DEFAULT_MAINTENANCE_INTERVAL = 15
#: The first retry delay of a send (jobs.SEND_RETRY), before an abandoned send runs again.
FIRST_RETRY_SECONDS = 5
#: RQ's scheduler beats (and moves due retries to the queue) every second, and holds its
#: queue's lock this long past each beat.
SCHEDULER_INTERVAL_SECONDS = 1
SCHEDULER_LOCK_SECONDS = SCHEDULER_INTERVAL_SECONDS + 60
#: Delete a scheduler lock whose time left shows no beat for ARGV[1] s (atomic: a live
#: scheduler refreshing it meanwhile keeps it).
_RELEASE_STALE_LOCK = """
local left = redis.call('TTL', KEYS[1])
if left >= 0 and left < tonumber(ARGV[1]) then return redis.call('DEL', KEYS[1]) end
return 0
"""


def recovery_bound(monitoring: int, grace: int, maintenance: int) -> int:
    """Return the most seconds from a worker's death until its job starts again elsewhere."""
    # Abandoned one interval plus the grace after the last heartbeat (which came before the
    # death), found by another worker's next maintenance pass, which also frees a dead
    # scheduler's lock; the retry is due after its delay and queued at the next beat.
    return monitoring + grace + maintenance + FIRST_RETRY_SECONDS + SCHEDULER_INTERVAL_SECONDS


class ServiceWorker(Worker):
    """An RQ worker whose jobs count as abandoned `heartbeat_grace` s after a missed beat."""

    def __init__(self, *args: Any, heartbeat_grace: int = DEFAULT_HEARTBEAT_GRACE, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.heartbeat_grace = heartbeat_grace

    def run_maintenance_tasks(self) -> None:
        """Free a dead scheduler's locks, then run RQ's maintenance (which takes them up)."""
        unbeaten = str(SCHEDULER_LOCK_SECONDS - self.heartbeat_grace)
        for queue in self.queues:
            lock = RQScheduler.get_locking_key(queue.name)
            if self.connection.eval(_RELEASE_STALE_LOCK, 1, lock, unbeaten):
                self.log.warning("freed %s's scheduler lock: its scheduler stopped", queue.name)
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        """Return how long this heartbeat keeps the job counted as running."""
        interval = int(self.job_monitoring_interval)
        if job.timeout and job.timeout > 0:
            # Past its timeout the job is killed anyway; never a TTL of 0 (that deletes keys).
            interval = int(max(0.0, min(job.timeout - working_time, interval)))
        return interval + self.heartbeat_grace
