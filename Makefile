.PHONY: lint test test-fast faults format

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

# Every test (README's test command).
test:
	bash scripts/test

# The inner loop: everything but the tests that start processes or a browser (about a minute).
test-fast:
	bash scripts/setup
	.venv/bin/pytest -q -m "not slow" --durations=10

# The fault suite alone: each case prints the figure it measured (time to 503, texts counted...).
faults:
	bash scripts/setup
	.venv/bin/pytest -q -m faults
