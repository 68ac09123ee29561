#!/usr/bin/env python3
"""pynetdicom Verification SCP for echoprobe's interop tests.

Usage: echoscp.py PORT [--ae-title AE] [--bind ADDR] [--require-called-aet]
                       [--require-calling-aet AE]... [--status 0xNNNN]

Listens on --bind (default 127.0.0.1) until killed. Prints one line per event to stdout so a test
can assert what the peer saw: "listening", "accepted calling=.. called=..", "rejected",
"echo msg_id=N", "released", "aborted".
"""

import argparse
import sys

from pynetdicom import AE, evt
from pynetdicom.sop_class import Verification


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--ae-title", default="PYECHOSCP")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--require-called-aet", action="store_true")
    p.add_argument("--require-calling-aet", action="append", default=[])
    p.add_argument("--status", type=lambda s: int(s, 0), default=0x0000)
    args = p.parse_args()

    def say(line: str) -> None:
        print(line, flush=True)

    def on_echo(event):
        say(f"echo msg_id={event.request.MessageID}")
        return args.status

    def on_accepted(event):
        rq = event.assoc.requestor
        say(f"accepted calling={rq.ae_title} called={event.assoc.acceptor.ae_title}")

    handlers = [
        (evt.EVT_C_ECHO, on_echo),
        (evt.EVT_ACCEPTED, on_accepted),
        (evt.EVT_REJECTED, lambda e: say("rejected")),
        (evt.EVT_RELEASED, lambda e: say("released")),
        (evt.EVT_ABORTED, lambda e: say("aborted")),
    ]

    ae = AE(ae_title=args.ae_title)
    ae.add_supported_context(Verification)
    ae.require_called_aet = args.require_called_aet
    ae.require_calling_aet = args.require_calling_aet
    server = ae.start_server((args.bind, args.port), block=False, evt_handlers=handlers)
    say(f"listening {args.bind}:{args.port} ae={args.ae_title}")
    try:
        server.serve_forever()
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
