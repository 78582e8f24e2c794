"""A local SMTP sink (aiosmtpd) that writes every message it receives to a folder as ``.eml``.

Started by ``make run`` on 127.0.0.1:8025 so that development and demo mail can be read in
``instance/mail/``; the tests use :class:`CollectingHandler` as a real SMTP server.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import re
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class CollectingHandler:
    """Keeps every message received (parsed), optionally writing it to ``directory``."""

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory) if directory else None
        if self.directory:
            self.directory.mkdir(parents=True, exist_ok=True)
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        if self.directory:
            message_id = re.sub(r"[^A-Za-z0-9@._-]", "", str(message.get("Message-ID", "sans-id")))
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{message_id}.eml"
            (self.directory / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for m in self.messages]


def start(
    host: str = "127.0.0.1", port: int = 8025, directory: str | Path | None = None
) -> tuple[Controller, CollectingHandler]:
    handler = CollectingHandler(directory)
    controller = Controller(handler, hostname=host, port=port, decode_data=False)
    controller.start()
    return controller, handler


def main() -> None:
    parser = argparse.ArgumentParser(description="Serveur SMTP local qui écrit les messages reçus dans un dossier.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", default="instance/mail")
    args = parser.parse_args()
    controller, _handler = start(args.host, args.port, args.dir)
    print(f"Boîte de réception locale : smtp://{args.host}:{args.port} → {Path(args.dir).resolve()}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
