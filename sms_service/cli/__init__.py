"""The `sms-screener` command: the `main` group, with each command group's module added."""

from __future__ import annotations

import click

# Modules, not their commands, are imported so that `sms_service.cli.chat` and the like stay
# the modules (a command named like its module would otherwise hide it).
from . import chat, evaluation, flows, followups, run, staff


@click.group()
def main() -> None:
    """Screen parents by text: a 504 plan or an IEP, and a consultation link."""


main.add_command(run.run)
main.add_command(run.worker)
main.add_command(chat.chat)
main.add_command(evaluation.evaluate)
main.add_command(followups.followups)
main.add_command(followups.outbox)
main.add_command(followups.purge)
main.add_command(staff.staff)
main.add_command(flows.flows)
