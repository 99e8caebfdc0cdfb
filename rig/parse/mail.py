"""A log that arrives inside a mail: the raw message as a list archive keeps it (lore's raw
view, an mbox, an ``.eml``), often quoted-printable (``=3D`` for "=", a soft line break "=" at
the end of a line) and with the log as an attachment.

Pure. The text/plain parts are decoded and joined; the HTML twin of a text part is dropped (it
repeats the log with ``<br>`` in place of line ends). Quoting ("> ") and the client's own
wrapping are left to the line normaliser and rig.parse.wrap.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the email package is imported when a mail is read: 14 ms of every start
    from email.message import Message

# the first lines of a message: an mbox "From " line, or RFC 5322 header fields
_START = re.compile(rb"^(?:From \S+|(?:Return-Path|Received|From|Date|Subject|Message-ID"
                    rb"|X-[\w-]+|Delivered-To|MIME-Version|To|Cc|DKIM-Signature):)", re.I)
_MIME = re.compile(rb"^(?:Content-Type|Content-Transfer-Encoding|MIME-Version):", re.I | re.M)
#: a mail is judged on its first bytes only; bigger files are logs
MAX_MAIL = 16 << 20


def looks_like_mail(head: bytes) -> bool:
    """Header fields at the top, MIME fields among them, and a blank line that ends them."""
    header, sep, _ = head.partition(b"\n\n")
    return bool(sep) and bool(_START.match(head)) and bool(_MIME.search(header))


def _messages(data: bytes) -> list[Message]:
    """One message, or each of an mbox's (lines starting "From " separate them)."""
    import email
    import email.policy

    if not data.startswith(b"From "):
        return [email.message_from_bytes(data, policy=email.policy.default)]
    chunks = re.split(rb"\n(?=From \S+ )", data)
    return [email.message_from_bytes(c, policy=email.policy.default) for c in chunks]


def _text(part: Message) -> str:
    from email.message import EmailMessage

    if isinstance(part, EmailMessage):
        try:
            content = part.get_content()
            return content if isinstance(content, str) else ""
        except (LookupError, ValueError):
            pass
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def decode(data: bytes) -> str | None:
    """The decoded text/plain parts of the mail(s) in ``data``, or None when it is no mail."""
    if len(data) > MAX_MAIL or not looks_like_mail(data[:65536]):
        return None
    texts: list[str] = []
    for msg in _messages(data):
        for part in msg.walk():
            if part.get_content_maintype() == "multipart":
                continue
            if part.get_content_type() == "text/plain":
                texts.append(_text(part))
    return "\n".join(texts) if texts else None
