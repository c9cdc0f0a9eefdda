"""The `flows check` and `flows graph` commands: validate and draw the screening flows."""

from __future__ import annotations

import sys

import click

from .. import FLOW_ID
from ..engine import FlowError, load_flows
from .startup import fail, read_settings


@click.group()
def flows() -> None:
    """Check the screening flows."""


@flows.command("check")
@click.option("--quiet", is_flag=True, help="Print only the texts over budget.")
def flows_check(quiet: bool) -> None:
    """Validate every flow and count each text's SMS segments against its budget."""
    from ..flowcheck import check_flow

    settings = read_settings()
    try:
        loaded = load_flows(settings.flows_dir, settings.flow_context())
    except FlowError as exc:
        click.echo(f"FAIL {exc}", err=True)
        sys.exit(1)
    over = 0
    for flow_id, flow in loaded.items():
        click.echo(f"flow {flow_id} (version {flow.version}): {len(flow.questions)} questions")
        click.echo(f"  {'text':<34} {'lang':<4} {'encoding':<8} {'chars':>5} {'segs':>4}")
        for item in check_flow(flow):
            if not item.ok:
                over += 1
            if quiet and item.ok:
                continue
            mark = "" if item.ok else f"  OVER BUDGET ({item.budget})"
            click.echo(
                f"  {item.name:<34} {item.language:<4} {item.count.encoding:<8} "
                f"{item.count.units:>5} {item.count.segments:>4}{mark}"
            )
    if over:
        click.echo(f"FAIL {over} text(s) over their segment budget", err=True)
        sys.exit(1)
    click.echo("OK every text is within its segment budget")


@flows.command("graph")
@click.option("--flow", "flow_id", default=FLOW_ID, show_default=True, help="Which flow.")
def flows_graph(flow_id: str) -> None:
    """Print a flow as a Mermaid diagram (paste it into any Mermaid viewer)."""
    from ..flowgraph import mermaid

    settings = read_settings()
    try:
        loaded = load_flows(settings.flows_dir, settings.flow_context())
    except FlowError as exc:
        fail(str(exc))
    if flow_id not in loaded:
        fail(f"no flow {flow_id!r}; flows: {', '.join(sorted(loaded))}")
    click.echo(mermaid(loaded[flow_id]))
