"""The `followups list`, `outbox` and `purge` commands: what the service holds on families."""

from __future__ import annotations

import json
import time

import click

from ..followups import FollowupStatus
from ..logs import mask_phone
from ..outbound import read_outbox
from ..purge import purge_family
from ..services import get_services
from .startup import build_app


@click.group()
def followups() -> None:
    """The staff queue of follow-ups."""


@followups.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option(
    "--status",
    type=click.Choice([s.value for s in FollowupStatus]),
    default=None,
    help="Only follow-ups with this status.",
)
def followups_list(as_json: bool, status: str | None) -> None:
    """List follow-ups by priority, those with unread texts first, then time waiting."""
    app = build_app()
    with app.app_context():
        records = get_services().followups.list(status)
    if as_json:
        click.echo(json.dumps([f.to_json() for f in records], indent=2, ensure_ascii=False))
        return
    if not records:
        click.echo("no follow-ups" + (f" with status {status}" if status else ""))
        return
    now = time.time()
    click.echo(
        f"{'priority':<8} {'outcome':<8} {'status':<9} {'waiting':>8} {'unread':>6}  "
        f"{'phone':<16} flags"
    )
    for f in records:
        waiting = _duration(now - f.created_at)
        notes = ", ".join(f.flags)
        notes += " [opted out]" if f.opted_out else ""
        notes += " [do not contact]" if f.do_not_contact else ""
        if f.text_failure is not None:
            notes += f" [text failed: {f.text_failure.short}]"
        if f.problems:
            notes += " [" + "; ".join(f.problems) + "]"
        click.echo(
            f"{f.priority:<8} {f.outcome:<8} {f.status:<9} {waiting:>8} {f.unread or '':>6}  "
            f"{f.phone:<16} {notes.strip()}"
        )


def _duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


@click.command()
@click.option("--phone", default=None, help="Only texts to this number.")
def outbox(phone: str | None) -> None:
    """Show the texts the local outbox holds (dev mode: what would have gone out)."""
    app = build_app()
    with app.app_context():
        services = get_services()
        if not services.settings.dev_mode:
            click.echo("Twilio credentials are set: texts go to the provider, not the outbox.")
            return
        entries = read_outbox(services.redis, phone)
    if not entries:
        click.echo("the outbox is empty")
    for entry in entries:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(entry["at"])))
        click.echo(f"{when}  to {entry['to']}\n  {entry['body']}\n")


@click.command()
@click.option("--phone", required=True, help="The family's number, as it texted us.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def purge(phone: str, yes: bool) -> None:
    """Delete one family's data: conversation, screenings, follow-ups, texts (not the opt-out)."""
    if not yes:
        click.confirm(f"Delete every record of {mask_phone(phone)}?", abort=True)
    app = build_app()
    with app.app_context():
        deleted = sum(purge_family(get_services(), phone).values())
    click.echo(f"deleted {deleted} record(s) of {mask_phone(phone)}")
