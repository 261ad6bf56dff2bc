"""A webhook receiver on loopback that accepts Apprise `json://` notices, for the demo,
tests and benchmarks (`python -m notifications.transport.receiver --port 8765 --log notices.jsonl`).

Like any idempotent consumer it honours the `Idempotency-Key` header: a redelivered notice
is acknowledged but not accepted twice. It counts both, so tests can tell them apart.
"""

from __future__ import annotations

import argparse
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # many concurrent senders: do not refuse connections


class WebhookReceiver:
    def __init__(self, *, port: int = 0, log: Path | None = None) -> None:
        self.accepted: list[dict[str, Any]] = []
        self.arrivals: Counter[str] = Counter()
        self.connections = 0  # TCP connections accepted (a keep-alive sender reuses them)
        self.fail_next = 0  # answer this many requests with HTTP 503
        self.delay = 0.0
        self._log = log
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/notices"

    def start(self) -> WebhookReceiver:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="webhook-receiver")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def keys(self) -> Counter[str]:
        with self._lock:
            return Counter(n["idempotency_key"] for n in self.accepted)

    def _record(self, key: str, payload: dict[str, Any]) -> int:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503
            self.arrivals[key] += 1
            if self.arrivals[key] > 1 and key:
                return 200  # a redelivery: acknowledged, not accepted again
            entry = {"idempotency_key": key, "title": payload.get("title", ""),
                     "message": payload.get("message", "")}
            self.accepted.append(entry)
            if self._log is not None:
                with self._log.open("a", encoding="utf-8") as file:
                    file.write(json.dumps(entry, ensure_ascii=False) + "\n")
            return 200

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:  # once per connection, however many requests
                super().setup()
                with receiver._lock:
                    receiver.connections += 1

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    payload = json.loads(raw or b"{}")
                except ValueError:
                    payload = {}
                status = receiver._record(self.headers.get("Idempotency-Key", ""),
                                          payload if isinstance(payload, dict) else {})
                if receiver.delay:  # received, but the sender waits for the answer
                    threading.Event().wait(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                with receiver._lock:
                    counts = {"accepted": len(receiver.accepted),
                              "arrivals": sum(receiver.arrivals.values())}
                body = json.dumps(counts).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the log file is the record

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--log", type=Path, default=None)
    parser.add_argument("--delay", type=float, default=0.0,
                        help="Seconds before answering, like a remote endpoint")
    args = parser.parse_args()
    receiver = WebhookReceiver(port=args.port, log=args.log).start()
    receiver.delay = args.delay
    print(f"receiving on {receiver.url}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
