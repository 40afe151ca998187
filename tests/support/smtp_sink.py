"""A real SMTP server for the mail tests (aiosmtpd): STARTTLS required, then AUTH PLAIN/LOGIN
with one account; every accepted message is written to MAILDIR as <n>.eml (the raw message
with an `X-Envelope-To:` line first).

    python smtp_sink.py PORT MAILDIR CERT KEY USER PASSWORD
"""

import asyncio
import itertools
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def main() -> None:
    port, maildir, cert, key, user, password = sys.argv[1:7]
    os.makedirs(maildir, exist_ok=True)
    counter = itertools.count(1)

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            number = next(counter)
            path = os.path.join(maildir, f"{number:06d}.eml")
            head = "".join(f"X-Envelope-To: {rcpt}\r\n" for rcpt in envelope.rcpt_tos)
            body = envelope.original_content or envelope.content
            with open(path + ".part", "wb") as f:
                f.write(head.encode() + body)
            os.replace(path + ".part", path)  # readers never see half a message
            return "250 Message accepted for delivery"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller = Controller(
        Sink(),
        hostname="127.0.0.1",
        port=int(port),
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    print(f"READY {port}", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
