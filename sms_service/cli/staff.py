"""The `staff add`, `staff list` and `staff disable` commands: logins for the follow-up pages."""

from __future__ import annotations

import sys

import click

from ..services import get_services
from .startup import build_app, fail


@click.group()
def staff() -> None:
    """Staff logins for the follow-up pages."""


@staff.command("add")
@click.argument("email")
@click.option("--admin", is_flag=True, help="May add and disable staff.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def staff_add(email: str, admin: bool, password_stdin: bool) -> None:
    """Create a staff login (the password is prompted, or read with --password-stdin)."""
    from ..accounts import AccountError, Role

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    app = build_app()
    with app.app_context():
        try:
            account = get_services().staff.add(email, password, Role.ADMIN if admin else Role.STAFF)
        except AccountError as exc:
            fail(str(exc))
    click.echo(f"added {account.email} ({account.role.value}); log in at /staff/login")


@staff.command("list")
def staff_list() -> None:
    """List staff logins."""
    app = build_app()
    with app.app_context():
        accounts = get_services().staff.all()
    for a in accounts:
        click.echo(f"{a.email:<40} {a.role.value:<6} {'disabled' if a.disabled else 'active'}")
    if not accounts:
        click.echo("no staff accounts yet: sms-screener staff add EMAIL --admin")


@staff.command("disable")
@click.argument("email")
def staff_disable(email: str) -> None:
    """Disable a staff login (its sessions end at their next request)."""
    from ..accounts import AccountError

    app = build_app()
    with app.app_context():
        try:
            get_services().staff.set_disabled(email, True)
        except AccountError as exc:
            fail(str(exc))
    click.echo(f"disabled {email}")
