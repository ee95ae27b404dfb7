"""
Counts the AWS requests the emulator serves, by service and operation, for the benchmark: calls counted where they
arrive, not by the engine's own counters. A WSGI layer in front of moto (it changes no answer):

  GET  /driftguard-api/requests        {"total": n, "calls": {"dynamodb:UpdateItem": n, "logs:DescribeLogGroups": n}}
  POST /driftguard-api/requests/reset  sets every count back to zero

The service is the SigV4 credential scope's (Credential=<key>/<date>/<region>/<service>/aws4_request); the operation
is the JSON protocols' X-Amz-Target (DynamoDB_20120810.UpdateItem), the query protocols' Action (SNS, IAM, STS), or
"<METHOD> <path>" for REST services. moto's own /moto-api/ calls are not AWS calls and are not counted.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, unquote_plus

COUNTER_PATH = "/driftguard-api/requests"
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[a-z0-9-]+/([a-z0-9-]+)/aws4_request")

_lock = threading.Lock()
_calls: Counter[str] = Counter()


def _operation(environ: dict[str, Any]) -> tuple[str, bytes | None]:
    """The operation's name, and the body when it had to be read to find it (the caller puts it back)."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rsplit(".", 1)[-1], None
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        return _form_action(body.decode("utf-8", "replace")) or "unknown", body
    query_action = parse_qs(environ.get("QUERY_STRING", "")).get("Action", [""])[0]
    if query_action:
        return query_action, None
    return f"{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}", None


def _form_action(form: str) -> str:
    """parse_qs(form).get("Action", [""])[0] without decoding the other fields (an SNS Publish carries its whole message
    in the form): the first Action field with a value."""
    for field in form.split("&"):
        name, equals, value = field.partition("=")
        if equals and value and unquote_plus(name) == "Action":
            return unquote_plus(value)
    return ""


def _answer(start_response: Any, status: str, answer: dict[str, Any]) -> list[bytes]:
    payload = json.dumps(answer).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def with_request_counter(app: Any) -> Any:
    """Wraps the WSGI app: counts each AWS request, and serves the counts at COUNTER_PATH."""

    def serve(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == COUNTER_PATH and environ.get("REQUEST_METHOD") == "GET":
            with _lock:
                calls = dict(sorted(_calls.items()))
            return _answer(start_response, "200 OK", {"total": sum(calls.values()), "calls": calls})
        if path == f"{COUNTER_PATH}/reset" and environ.get("REQUEST_METHOD") == "POST":
            with _lock:
                _calls.clear()
            return _answer(start_response, "200 OK", {"total": 0, "calls": {}})
        scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if scope is not None:
            operation, body = _operation(environ)
            if body is not None:
                environ["wsgi.input"] = io.BytesIO(body)
            with _lock:
                _calls[f"{scope.group(1)}:{operation}"] += 1
        return app(environ, start_response)

    return serve
