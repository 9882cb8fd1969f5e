"""A real SMTP server for the invitation tests (aiosmtpd), on 127.0.0.1 and a free port.

Prints "PORT <n>" once it listens, then one JSON line per message received: the envelope
(MAIL FROM, RCPT TO) and the message parsed by Python's email package (From, To, Subject,
Content-Type and the decoded text body). Runs until its standard input closes.
"""

import asyncio
import email
import email.policy
import json
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        print(json.dumps({
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "content_type": message.get_content_type(),
            "body": message.get_content(),
        }), flush=True)
        return "250 Message accepted for delivery"


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Sink()), "127.0.0.1", 0)
    print("PORT", server.sockets[0].getsockname()[1], flush=True)
    # Stop when the test closes our standard input (or dies).
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


asyncio.run(main())
