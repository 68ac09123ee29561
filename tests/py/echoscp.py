#!/usr/bin/env python3
"""pynetdicom Verification SCP for echoprobe's interop tests.

Usage: echoscp.py PORT [--ae-title AE] [--bind ADDR] [--require-called-aet]
                       [--require-calling-aet AE]... [--status 0xNNNN]

Listens on --bind (default 127.0.0.1) until killed. Prints one line per event to stdout so a test
can assert what the peer saw: "listening", "accepted calling=.. called=..", "rejected",
"echo msg_id=N", "released", "aborted".
"""

import sys

from pynetdicom import evt
from pynetdicom.sop_class import Verification

from peer import say, scp_arguments, serve


def main() -> None:
    p = scp_arguments("PYECHOSCP")
    p.add_argument("--require-calling-aet", action="append", default=[])
    p.add_argument("--status", type=lambda s: int(s, 0), default=0x0000)
    args = p.parse_args()

    def on_echo(event):
        say(f"echo msg_id={event.request.MessageID}")
        return args.status

    handlers = [
        (evt.EVT_C_ECHO, on_echo),
        (evt.EVT_REJECTED, lambda e: say("rejected")),
    ]
    serve(args, [Verification], handlers, args.require_calling_aet)


if __name__ == "__main__":
    sys.exit(main())
