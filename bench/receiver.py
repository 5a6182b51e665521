"""A local webhook receiver for the outbound benchmark and the soak: it verifies each signature (Standard
Webhooks), fails a share of requests on purpose, and records what it accepted. Loopback only; stopped by its owner."""

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


class Receiver:
    def __init__(self, *, secret: str, fail_rate: float = 0.0, seed: int = 5):
        self.verifier = Webhook(secret)
        self.fail_rate = fail_rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.accepted: list[tuple[float, str, str | None]] = []  # (arrival, webhook-id, lead id)
        self.refused = self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver behind a proxy would
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrival = time.time()
                try:
                    payload = receiver.verifier.verify(body, {k: v for k, v in self.headers.items()})
                except Exception:
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    return self._answer(400)
                with receiver.lock:
                    fail = receiver.rng.random() < receiver.fail_rate
                    if fail:
                        receiver.refused += 1
                    else:
                        lead = ((payload.get("data") or {}).get("lead") or {}).get("id")
                        receiver.accepted.append((arrival, self.headers["webhook-id"], lead))
                self._answer(500 if fail else 200)

            def _answer(self, status: int):
                body = json.dumps({"ok": status == 200}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def first_arrivals(self) -> dict[str, tuple[float, str | None]]:
        """webhook-id -> (first accepted arrival, lead id)."""
        first: dict[str, tuple[float, str | None]] = {}
        with self.lock:
            for arrival, event_id, lead in self.accepted:
                first.setdefault(event_id, (arrival, lead))
        return first


def main() -> None:
    """`python -m bench.receiver --secret S --port-file F --out O`: serve until SIGTERM, then write the accepted
    deliveries to O as JSON (the benchmark runs the receiver in its own process, off the dispatcher's GIL)."""
    import argparse
    import signal

    parser = argparse.ArgumentParser()
    parser.add_argument("--secret", required=True)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    receiver = Receiver(secret=args.secret, fail_rate=args.fail_rate).start()
    with open(args.port_file, "w") as handle:
        handle.write(receiver.url)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    receiver.stop()
    with open(args.out, "w") as handle:
        json.dump({"accepted": receiver.accepted, "refused": receiver.refused, "bad": receiver.bad_signatures}, handle)


if __name__ == "__main__":
    main()
