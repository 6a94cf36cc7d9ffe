"""Starts the moto AWS emulator on 127.0.0.1 for the Lambda host tests, behind a fault injector.

Prints the port once the server answers, then serves until its standard input closes (the
test process that started it ended), so no server outlives its tests.

The fault injector sits in front of moto in the same server and does nothing until a test
programs it: `POST /_faults` with a JSON list of rules replaces the plan (an empty list clears
it), `GET /_faults` returns how many requests each rule has hit. A rule matches on any of
`target` (the X-Amz-Target header, e.g. `DynamoDB_20120810.BatchWriteItem`), `method`,
`path_prefix` (path-style S3: `/bucket/key`) and `query` (a substring of the query string); it
lets `skip` matching requests through, then acts on the next `times` (all, when absent), after
which the next rule that matches acts:
- `{"action": "status", "status": 503, "body": "...", "content_type": "..."}` answers in moto's
  place (throttling, 5xx);
- `{"action": "pass"}` lets it through (to count requests of a kind);
- `{"action": "drop"}` closes the connection without an answer (the emulator unreachable);
- `{"action": "unprocessed", "keep": 1}` passes a DynamoDB BatchWriteItem through with only the
  first `keep` put requests and answers the rest as `UnprocessedItems`, as DynamoDB does when it
  throttles part of a batch;
- `{"action": "failed_findings", "fail": 1}` passes a Security Hub BatchImportFindings through
  without its first `fail` findings and answers those as `FailedFindings`, as Security Hub does
  for findings it refuses.
"""
import io
import json
import logging
import socket
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server


class FaultInjector:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.rules = []

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/_faults":
            return self.control(environ, start_response)
        rule = self.match(environ)
        if rule is None:
            return self.app(environ, start_response)
        action = rule.get("action", "status")
        if action == "pass":
            return self.app(environ, start_response)
        if action == "drop":
            read_body(environ)  # consumed, or the server would parse it as the next request
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            # The server treats this as a connection dropped by the client and stays quiet.
            raise ConnectionResetError("fault injector dropped the connection")
        if action == "unprocessed":
            return self.unprocessed(environ, start_response, int(rule.get("keep", 0)))
        if action == "failed_findings":
            return self.failed_findings(environ, start_response, int(rule.get("fail", 1)))
        body = rule.get("body", "").encode()
        start_response(f"{int(rule.get('status', 500))} Injected", [
            ("Content-Type", rule.get("content_type", "application/xml")),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ])
        return [body]

    def match(self, environ):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        with self.lock:
            for rule in self.rules:
                if "target" in rule and rule["target"] != target:
                    continue
                if "method" in rule and rule["method"] != environ.get("REQUEST_METHOD"):
                    continue
                if "path_prefix" in rule and not environ.get("PATH_INFO", "").startswith(rule["path_prefix"]):
                    continue
                if "query" in rule and rule["query"] not in environ.get("QUERY_STRING", ""):
                    continue
                rule["seen"] += 1
                if rule["seen"] <= rule.get("skip", 0):
                    return None
                if "times" in rule and rule["hits"] >= rule["times"]:
                    continue  # spent: a later rule may take the request
                rule["hits"] += 1
                return rule
        return None

    def unprocessed(self, environ, start_response, keep):
        body = json.loads(read_body(environ) or b"{}")
        held = {}
        for table, requests in body.get("RequestItems", {}).items():
            body["RequestItems"][table] = requests[:keep]
            if requests[keep:]:
                held[table] = requests[keep:]
            keep = max(0, keep - len(requests))
        body["RequestItems"] = {t: r for t, r in body["RequestItems"].items() if r}
        if body["RequestItems"]:
            self.forward(environ, body)
        answer = {"UnprocessedItems": held}
        out = json.dumps(answer).encode()
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(out)))])
        return [out]

    def failed_findings(self, environ, start_response, fail):
        body = json.loads(read_body(environ) or b"{}")
        findings = body.get("Findings", [])
        refused, body["Findings"] = findings[:fail], findings[fail:]
        answer = {"FailedCount": 0, "SuccessCount": 0, "FailedFindings": []}
        if body["Findings"]:
            answer = self.forward(environ, body)
        answer["FailedCount"] = answer.get("FailedCount", 0) + len(refused)
        answer["FailedFindings"] = answer.get("FailedFindings", []) + [
            {"Id": f.get("Id", ""), "ErrorCode": "InvalidInput", "ErrorMessage": "injected by the fault proxy"} for f in refused]
        out = json.dumps(answer).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
        return [out]

    def forward(self, environ, body):
        """Hands moto the request with `body` instead of its own; returns moto's JSON answer."""
        forwarded = json.dumps(body).encode()
        environ["wsgi.input"] = io.BytesIO(forwarded)
        environ["CONTENT_LENGTH"] = str(len(forwarded))
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        answer = json.loads(b"".join(self.app(environ, capture)) or b"{}")
        if not captured["status"].startswith("200"):
            raise RuntimeError(f"moto refused the forwarded request: {captured['status']} {answer}")
        return answer

    def control(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST":
            rules = json.loads(read_body(environ) or b"[]")
            with self.lock:
                self.rules = [dict(rule, seen=0, hits=0) for rule in rules]
        with self.lock:
            out = json.dumps([{"hits": r["hits"], "seen": r["seen"]} for r in self.rules]).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
        return [out]


def read_body(environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    app = FaultInjector(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(port, flush=True)
    sys.stdin.read()
    server.shutdown()
    thread.join()


if __name__ == "__main__":
    main()
