#!/usr/bin/env python3
"""pynetdicom Verification SCU for echoprobe's interop tests.

Usage: echoscu.py HOST PORT [--aet AE] [--aec AE] [--repeat N] [--timeout S] [--hold S]

--hold S keeps the association open (idle) for S seconds after the echoes, then releases it;
it prints "holding" when the hold starts and "lost during hold" if the peer ended it meanwhile.

Exit codes: 0 every C-ECHO answered 0x0000; 2 association rejected (prints
"rejected result=R source=S reason=D"); 3 aborted or not established; 4 a C-ECHO got no
response; 5 a C-ECHO got a non-success status (prints "status 0xNNNN"); 6 the peer ended the
association during --hold.
"""

import sys
import time

from pynetdicom import evt
from pynetdicom.pdu import A_ASSOCIATE_RJ
from pynetdicom.sop_class import Verification

from peer import scu_ae, scu_arguments


def main() -> int:
    p = scu_arguments("PYECHOSCU")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--hold", type=float, default=0.0)
    args = p.parse_args()
    ae = scu_ae(args, Verification)
    # pynetdicom 3.0.4 races when a peer rejects fast: its DUL thread can take the A-ASSOCIATE-RJ
    # and close the socket before the requesting thread checks the connection, which then
    # reports an abort (is_rejected stays False). Record the RJ PDU as the DUL decodes it.
    seen_rj = []

    def on_pdu(event):
        if isinstance(event.pdu, A_ASSOCIATE_RJ):
            seen_rj.append((event.pdu.result, event.pdu.source, event.pdu.reason_diagnostic))

    assoc = ae.associate(
        args.host, args.port, ae_title=args.aec, evt_handlers=[(evt.EVT_PDU_RECV, on_pdu)]
    )
    if assoc.is_rejected or seen_rj:
        result, source, reason = seen_rj[0]
        print(f"rejected result={result} source={source} reason={reason}")
        return 2
    if not assoc.is_established:
        print("not established (aborted or no response)")
        return 3
    print(f"accepted called={assoc.acceptor.ae_title}")
    rc = 0
    for msg_id in range(1, args.repeat + 1):
        status = assoc.send_c_echo(msg_id=msg_id)
        if "Status" not in status:
            print(f"echo {msg_id}: no response")
            rc = 4
            break
        print(f"echo {msg_id}: status 0x{status.Status:04X}")
        if status.Status != 0x0000:
            rc = 5
    if args.hold > 0 and assoc.is_established:
        print("holding")
        deadline = time.monotonic() + args.hold
        while assoc.is_established and time.monotonic() < deadline:
            time.sleep(0.02)
        if not assoc.is_established:
            print("lost during hold")
            return 6
    if assoc.is_established:
        assoc.release()
        print("released")
    return rc


if __name__ == "__main__":
    sys.exit(main())
