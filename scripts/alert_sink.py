"""Local alert sink: a real SMTP server (aiosmtpd) and an HTTP endpoint that records webhook calls.

Every received email and webhook call is appended as one JSON line to ``<dir>/mail.jsonl`` or
``<dir>/webhook.jsonl``, so people and tests can see the alerts the platform sent.
Usage: ``python scripts/alert_sink.py --dir D --smtp-port P --webhook-port Q [--host H]`` (binds
127.0.0.1 unless told otherwise: docker-compose gives ``--host 0.0.0.0`` inside its network).
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

LOCK = threading.Lock()


def append(path: Path, record: dict[str, Any]) -> None:
    with LOCK, path.open("a") as handle:
        handle.write(json.dumps(record) + "\n")


def body_text(message: Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    texts = []
    for part in parts:
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            texts.append(payload.decode(part.get_content_charset() or "utf-8", errors="replace"))
    return "\n".join(texts)


class MailRecorder:
    def __init__(self, path: Path) -> None:
        self.path = path

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        append(self.path, {"received": time.time(), "from": envelope.mail_from, "to": envelope.rcpt_tos,
                           "subject": message.get("Subject", ""), "body": body_text(message)})
        return "250 Message accepted for delivery"


def webhook_handler(path: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                payload: Any = json.loads(raw)
            except ValueError:
                payload = raw.decode(errors="replace")
            append(path, {"received": time.time(), "path": self.path, "payload": payload})
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"alert sink")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--webhook-port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    smtp = Controller(MailRecorder(args.dir / "mail.jsonl"), hostname=args.host, port=args.smtp_port)
    smtp.start()
    http = ThreadingHTTPServer((args.host, args.webhook_port), webhook_handler(args.dir / "webhook.jsonl"))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=http.shutdown).start())
    print(f"alert sink: SMTP {args.host}:{args.smtp_port}, webhook http://{args.host}:{args.webhook_port}", flush=True)
    try:
        http.serve_forever()
    finally:
        smtp.stop()


if __name__ == "__main__":
    main()
