"""Run the `sms-screener` command as `python -m sms_service.cli` (how `run` starts the worker)."""

from . import main

main()
