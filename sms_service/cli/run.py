"""The `run` and `worker` commands: start the service's processes here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click

from ..redis_conn import WORKER, start_embedded
from ..services import get_services
from ..worker import (
    DEFAULT_HEARTBEAT_GRACE,
    DEFAULT_JOB_MONITORING_INTERVAL,
    DEFAULT_MAINTENANCE_INTERVAL,
    ServiceWorker,
)
from .startup import build_app, read_settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", default=5000, show_default=True, envvar="PORT", help="Port to serve on.")
@click.option("--web-workers", default=2, show_default=True, help="gunicorn worker processes.")
def run(host: str, port: int, web_workers: int) -> None:
    """Run the whole service here: Redis (embedded unless REDIS_URL), web and worker."""
    settings = read_settings()
    env = dict(os.environ)
    embedded = None
    if settings.redis_url is None:
        url, embedded = start_embedded(settings.var_dir)
        env["REDIS_URL"] = url
    build_app()  # fail fast, naming the bad setting or flow, before starting anything
    web = [
        sys.executable, "-m", "gunicorn", "--workers", str(web_workers),
        "--bind", f"{host}:{port}", "--access-logfile", "-",
        "sms_service:create_app()",
    ]  # fmt: skip
    worker = [sys.executable, "-m", "sms_service.cli", "worker"]
    procs = [subprocess.Popen(web, env=env), subprocess.Popen(worker, env=env)]
    base = f"http://{host}:{port}"
    mode = "dev mode: texts go to the local outbox" if settings.dev_mode else "Twilio mode"
    redis_where = "embedded Redis under " + str(settings.var_dir) if embedded else "REDIS_URL"
    click.echo(
        f"\nsms-screener is running ({mode}; {redis_where}).\n"
        f"  webhook:  POST {base}/sms   health: {base}/healthz\n"
        f"  try it:   .venv/bin/sms-screener chat --url {base}   (in another terminal)\n"
        f"  staff:    {base}/staff/   (create a login: .venv/bin/sms-screener staff add EMAIL"
        " --admin)\n"
        "  stop:     Ctrl-C\n"
    )

    def stop(*_: object) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        while all(proc.poll() is None for proc in procs):
            time.sleep(0.5)
        code = next(proc.returncode for proc in procs if proc.poll() is not None) or 1
        click.echo("sms-screener: a process stopped; stopping the others", err=True)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    sys.exit(code)


@click.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option(
    "--maintenance-interval",
    default=DEFAULT_MAINTENANCE_INTERVAL,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seconds between checks for jobs that a dead worker left behind.",
)
@click.option(
    "--job-monitoring-interval",
    default=DEFAULT_JOB_MONITORING_INTERVAL,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seconds between heartbeats of a running job.",
)
@click.option(
    "--heartbeat-grace",
    default=DEFAULT_HEARTBEAT_GRACE,
    show_default=True,
    # Under the scheduler lock's 61 s, so a dead scheduler's lock is freed sooner.
    type=click.IntRange(min=1, max=45),
    help="Seconds a heartbeat may be late before its job counts as abandoned and is retried "
    "(a dead worker's job starts again within interval + grace + maintenance interval + 5 s).",
)
def worker(
    burst: bool, maintenance_interval: int, job_monitoring_interval: int, heartbeat_grace: int
) -> None:
    """Run an RQ worker (with its scheduler) on the service's queue."""
    from ..jobs import ensure_retention, schedule_sweep, sweep_pending_evaluations

    # No webhook waits on the worker: it may wait out a slow Redis rather than fail a job.
    app = build_app(redis_timeouts=WORKER)
    with app.app_context():
        services = get_services()
        rq_worker = ServiceWorker(
            [services.queue],
            connection=services.rq_redis,
            maintenance_interval=maintenance_interval,
            job_monitoring_interval=job_monitoring_interval,
            heartbeat_grace=heartbeat_grace,
            # An idle worker blocks on the queue for worker_ttl - 15 s between maintenance
            # passes: keep that to the maintenance interval so abandoned jobs are found.
            worker_ttl=maintenance_interval + 15,
        )
        if burst:
            sweep_pending_evaluations()
        else:
            schedule_sweep(services.queue)
            ensure_retention(services.queue)
        rq_worker.work(with_scheduler=True, burst=burst)
