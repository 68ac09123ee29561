#!/usr/bin/env python3
"""pynetdicom Verification SCU for echoprobe's interop tests.

Usage: echoscu.py HOST PORT [--aet AE] [--aec AE] [--repeat N] [--timeout S]

Exit codes: 0 every C-ECHO answered 0x0000; 2 association rejected (prints
"rejected result=R source=S reason=D"); 3 aborted or not established; 4 a C-ECHO got no
response; 5 a C-ECHO got a non-success status (prints "status 0xNNNN").
"""

import argparse
import sys

from pynetdicom import AE
from pynetdicom.sop_class import Verification


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--aet", default="PYECHOSCU")
    p.add_argument("--aec", default="ANY-SCP")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--timeout", type=float, default=10.0)
    args = p.parse_args()

    ae = AE(ae_title=args.aet)
    ae.acse_timeout = args.timeout
    ae.dimse_timeout = args.timeout
    ae.network_timeout = args.timeout
    ae.add_requested_context(Verification)
    assoc = ae.associate(args.host, args.port, ae_title=args.aec)
    if assoc.is_rejected:
        rj = assoc.acceptor.primitive
        print(f"rejected result={rj.result} source={rj.result_source} reason={rj.diagnostic}")
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
    if assoc.is_established:
        assoc.release()
        print("released")
    return rc


if __name__ == "__main__":
    sys.exit(main())
