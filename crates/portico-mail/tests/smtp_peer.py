"""A real SMTP server for Portico's mail tests (Debian's python3-aiosmtpd), on loopback only.

    smtp_peer.py DIR PORT MODE [CERT KEY]

MODE is `plain` (no TLS, no authentication), `starttls` (STARTTLS required, then AUTH PLAIN or
LOGIN as portico/secret required) or `tls` (TLS from the first byte, same authentication).
Each message received is written whole to DIR as NNNNN.eml, and read back by Python's e-mail
parser into NNNNN.json (envelope, headers, the plain-text and HTML parts decoded, the content
types of every part), each renamed into place when complete.
Prints `ready` once listening; stops when its standard input closes.
"""

import email
import email.policy
import json
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class SaveToFolder:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.folder, f"{self.count:05d}.eml")
        raw = envelope.original_content or envelope.content
        with open(path + ".part", "wb") as out:
            out.write(raw)
        os.rename(path + ".part", path)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        parsed = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "message_id": str(message["Message-ID"]),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
            "types": [part.get_content_type() for part in message.walk()],
        }
        with open(path[:-4] + ".json.part", "w") as out:
            json.dump(parsed, out)
        os.rename(path[:-4] + ".json.part", path[:-4] + ".json")
        return "250 Message accepted"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"portico"
        and auth_data.password == b"secret"
    )
    # handled=False: aiosmtpd then answers a refusal with 535 itself.
    return AuthResult(success=ok, handled=False)


def main():
    folder, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    kwargs = {}
    if mode in ("starttls", "tls"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[4], sys.argv[5])
        kwargs.update(authenticator=authenticate, auth_required=True)
        if mode == "starttls":
            kwargs.update(tls_context=context, require_starttls=True, auth_require_tls=True)
        else:
            kwargs.update(ssl_context=context, auth_require_tls=False)
    controller = Controller(
        SaveToFolder(folder), hostname="127.0.0.1", port=port, server_hostname="localhost", **kwargs
    )
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
