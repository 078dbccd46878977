#!/usr/bin/python3
"""A local SMTP sink (Debian's python3-aiosmtpd): accepts every message on
HOST:PORT and writes it, as received, to DIR/<n>.eml (atomically: a reader
never sees half a message), with the envelope in X-Sink-Mail-From and
X-Sink-Rcpt-To header lines added on top. `./crm up` runs one on
127.0.0.1:2525 (mails under .run/mail); the end-to-end tests run their own.

  mail_sink.py --host 127.0.0.1 --port 2525 --dir DIR

With --reply CODE every DATA is answered CODE instead (e.g. 451 to test
retries) and nothing is stored. SIGTERM stops it."""
import argparse
import itertools
import os
import signal
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out_dir, reply):
        self.out_dir = out_dir
        self.reply = reply
        self.lock = threading.Lock()
        existing = [int(f[:-4]) for f in os.listdir(out_dir)
                    if f.endswith(".eml") and f[:-4].isdigit()]
        self.seq = itertools.count(max(existing, default=0) + 1)

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            return "%d Sink told to refuse" % self.reply
        head = ("X-Sink-Mail-From: %s\r\nX-Sink-Rcpt-To: %s\r\n"
                % (envelope.mail_from, ", ".join(envelope.rcpt_tos))).encode()
        with self.lock:
            n = next(self.seq)
        tmp = os.path.join(self.out_dir, ".%d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(head + envelope.original_content)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.out_dir, "%d.eml" % n))
        return "250 Message accepted for delivery"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--reply", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(Sink(args.dir, args.reply), hostname=args.host, port=args.port,
                            decode_data=False, data_size_limit=10 * 1024 * 1024)
    controller.start()
    print("mail sink on %s:%d, messages in %s" % (args.host, args.port, args.dir), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
