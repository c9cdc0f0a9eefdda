"""A local HTTP server that plays Twilio's Messages REST API, with scripted failures.

The real twilio client talks to it through TWILIO_API_BASE_URL; nothing in the SDK is patched.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: What the next create request gets: "ok", an HTTP status with a Twilio error code,
#: "timeout" (the message is taken, but the answer comes too late), "hang" (not taken, no
#: answer in time), "rfc9457" (a TwilioServiceException-style 503).
Behaviour = str

ERRORS: dict[str, tuple[int, int, str]] = {
    "429": (429, 20429, "Too Many Requests"),
    "500": (500, 20500, "Internal Server Error"),
    "503": (503, 20503, "Service Unavailable"),
    "21610": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "21211": (400, 21211, "The 'To' number is not a valid phone number."),
    "21408": (400, 21408, "Permission to send an SMS has not been enabled for the region"),
    "21614": (400, 21614, "'To' number is not a valid mobile number"),
}


@dataclass
class Sent:
    sid: str
    to: str
    from_: str
    messaging_service_sid: str
    body: str
    status_callback: str
    received_at: float
    date_created: str


@dataclass
class FakeTwilio:
    account_sid: str
    auth_token: str
    #: How long "timeout" and "hang" keep the client waiting.
    delay: float = 3.0
    #: A 21211's message names the number, as Twilio's does.
    name_the_number: bool = False
    messages: list[Sent] = field(default_factory=list)
    requests: list[tuple[str, str, float]] = field(default_factory=list)
    _script: deque[Behaviour] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, *behaviours: Behaviour) -> None:
        """Queue what the next create requests get (then "ok" for the rest)."""
        with self._lock:
            self._script.extend(behaviours)

    def creates(self) -> int:
        """Return how many create requests arrived, whatever they got."""
        with self._lock:
            return sum(1 for method, _, _ in self.requests if method == "POST")

    def bodies_to(self, to: str) -> list[str]:
        with self._lock:
            return [m.body for m in self.messages if m.to == to]

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_GET(self) -> None:
                fake._handle(self, "GET")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- the API -----------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        with self._lock:
            self.requests.append((method, parts.path, time.time()))
        expected = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        if parts.path != expected:
            self._reply(handler, 404, {"code": 20404, "message": "Not Found", "status": 404})
            return
        if not self._authorised(handler):
            self._reply(handler, 401, {"code": 20003, "message": "Authenticate", "status": 401})
            return
        if method == "GET":
            self._list(handler, parse_qs(parts.query))
            return
        length = int(handler.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(handler.rfile.read(length).decode()).items()}
        with self._lock:
            behaviour = self._script.popleft() if self._script else "ok"
        if behaviour in ERRORS:
            status, code, message = ERRORS[behaviour]
            if behaviour == "21211" and self.name_the_number:
                # As Twilio's own text does: "The 'To' number +1555... is not a valid ...".
                message = f"The 'To' number {form.get('To', '')} is not a valid phone number."
            body = {"code": code, "message": message, "more_info": "", "status": status}
            self._reply(handler, status, body)
            return
        if behaviour == "rfc9457":
            problem = {"type": "https://www.twilio.com/docs/errors/20503", "title": "Unavailable",
                       "status": 503, "code": 20503, "detail": "try again"}  # fmt: skip
            self._reply(handler, 503, problem)
            return
        if behaviour == "hang":
            time.sleep(self.delay)
            return
        if not form.get("To") or not form.get("Body"):
            self._reply(handler, 400, {"code": 21604, "message": "'To' is required", "status": 400})
            return
        sent = self._record(form)
        if behaviour == "timeout":
            time.sleep(self.delay)  # taken, but the client has given up by now
        self._reply(handler, 201, self._resource(sent))

    def _authorised(self, handler: BaseHTTPRequestHandler) -> bool:
        header = handler.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user == self.account_sid and password == self.auth_token

    def _record(self, form: dict[str, str]) -> Sent:
        now = time.time()
        sent = Sent(
            sid="SM" + uuid.uuid4().hex,
            to=form["To"],
            from_=form.get("From", ""),
            messaging_service_sid=form.get("MessagingServiceSid", ""),
            body=form["Body"],
            status_callback=form.get("StatusCallback", ""),
            received_at=now,
            date_created=format_datetime(_utc(now), usegmt=True),
        )
        with self._lock:
            self.messages.append(sent)
        return sent

    def _list(self, handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
        to = query.get("To", [None])[0]
        after = query.get("DateSent>", [None])[0]
        since = None
        if after:
            since = (
                parsedate_to_datetime(after).timestamp()
                if "," in after
                else datetime.fromisoformat(after.replace("Z", "+00:00")).timestamp()
            )
        with self._lock:
            found = [
                self._resource(m)
                for m in self.messages
                if (to is None or m.to == to) and (since is None or m.received_at >= since)
            ]
        page = {"messages": found, "next_page_uri": None, "page": 0, "page_size": 50,
                "uri": handler.path}  # fmt: skip
        self._reply(handler, 200, page)

    def _resource(self, sent: Sent) -> dict[str, Any]:
        return {
            "sid": sent.sid,
            "account_sid": self.account_sid,
            "to": sent.to,
            "from": sent.from_ or None,
            "messaging_service_sid": sent.messaging_service_sid or None,
            "body": sent.body,
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": sent.date_created,
            "date_updated": sent.date_created,
            "date_sent": sent.date_created,
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sent.sid}.json",
        }

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a scripted timeout)


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)
