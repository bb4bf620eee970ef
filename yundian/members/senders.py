"""How sign-in codes reach a member's phone: a pluggable sender, chosen like Django's email backends.

`settings.MEMBER_CODE_SENDER` names a class with `send(message: CodeMessage) -> None`. Unset, the console sender
logs the code (development); under Django's test environment (where `django.core.mail.outbox` exists, set up by
`setup_test_environment`) the locmem sender appends to `outbox` instead, so tests and browser tests read it there.
An SMS gateway is one more class with the same method, named in the setting. `FileCodeSender` appends each code as
a JSON line to `settings.MEMBER_CODE_FILE` (default DATA_DIR/member-codes.jsonl), so a load test against a real
server process (bench/store_day) can read the codes it asked for.
"""
import json
import os
import sys
from dataclasses import dataclass

from django.conf import settings
from django.core import mail
from django.utils.module_loading import import_string

CONSOLE = "yundian.members.senders.ConsoleCodeSender"
LOCMEM = "yundian.members.senders.LocmemCodeSender"
FILE = "yundian.members.senders.FileCodeSender"


@dataclass(frozen=True)
class CodeMessage:
    phone: str
    code: str
    text: str


outbox: list[CodeMessage] = []  # the locmem sender's deliveries (tests)


class ConsoleCodeSender:
    """Development: the code on the server's console (like Django's console email backend), whatever LOG_LEVEL."""

    def send(self, message: CodeMessage) -> None:
        sys.stderr.write(f"[sign-in code] {message.phone}: {message.text}\n")
        sys.stderr.flush()


class LocmemCodeSender:
    def send(self, message: CodeMessage) -> None:
        outbox.append(message)


class FileCodeSender:
    """One JSON line {"phone", "code"} per code, appended with one write (several server processes share the file)."""

    def send(self, message: CodeMessage) -> None:
        path = getattr(settings, "MEMBER_CODE_FILE", None) or settings.DATA_DIR / "member-codes.jsonl"
        line = (json.dumps({"phone": message.phone, "code": message.code}) + "\n").encode()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def get_sender():
    path = getattr(settings, "MEMBER_CODE_SENDER", None) or (LOCMEM if hasattr(mail, "outbox") else CONSOLE)
    return import_string(path)()


def last_code(phone: str) -> str | None:
    """The latest code the locmem sender delivered to `phone` (tests)."""
    for message in reversed(outbox):
        if message.phone == phone:
            return message.code
    return None
