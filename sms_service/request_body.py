"""Request bodies read safely: too large is 413 before anything else, bad UTF-8 is replaced.

The size is checked before a signature is: a chunked body (no Content-Length) is otherwise
cut at MAX_CONTENT_LENGTH by werkzeug and then fails its signature (403). A form with bytes
that are not UTF-8 is read with U+FFFD in their place instead of dropping every field (400).
"""

from __future__ import annotations

from typing import IO
from urllib.parse import parse_qsl

from flask import Flask, Request, abort, current_app, request
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.formparser import FormDataParser

#: Methods whose body is read before any view runs.
_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ReplacingFormDataParser(FormDataParser):
    """A form parser that decodes a urlencoded body's bad UTF-8 as U+FFFD."""

    def _parse_urlencoded(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> tuple[IO[bytes], MultiDict[str, str], MultiDict[str, FileStorage]]:
        items = parse_qsl(
            stream.read().decode("utf-8", "replace"), keep_blank_values=True, errors="replace"
        )
        return stream, self.cls(items), self.cls()


class ServiceRequest(Request):
    """The app's request: forms read with replacement characters for bad UTF-8."""

    form_data_parser_class = ReplacingFormDataParser


def init_app(app: Flask) -> None:
    """Use ServiceRequest, and refuse bodies over MAX_CONTENT_LENGTH first (before CSRF too)."""
    app.request_class = ServiceRequest
    app.before_request(refuse_large_bodies)


def refuse_large_bodies() -> None:
    """Answer 413 for a body over MAX_CONTENT_LENGTH, with or without a Content-Length."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is None or request.method not in _WITH_BODY:
        return
    if request.content_length is not None:
        if request.content_length > limit:
            abort(413)
        return
    # Chunked: werkzeug's stream stops at the limit, so a body that fills it was larger.
    if len(request.get_data(cache=True)) >= limit:
        abort(413)
