#!/usr/bin/env python3
"""pynetdicom C-FIND SCU for echoprobe's interop tests (its findscu, judged by its exit code,
which pynetdicom's own findscu does not give: it exits 0 on every failure).

Usage: findscu.py HOST PORT [--aet AE] [--aec AE] [--model study|patient|worklist]
                  [--key Keyword=value]... [--timeout S]

Prints "match N Keyword=value ..." per Pending response (every key of the identifier) and
"status 0xNNNN" for the final one.

Exit codes: 0 final status Success; 2 association rejected; 3 aborted or not established;
4 no response in time; 5 a failure or cancel final status.
"""

import sys

from pydicom.dataset import Dataset
from pynetdicom.sop_class import (
    ModalityWorklistInformationFind,
    PatientRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelFind,
)

from peer import scu_ae, scu_arguments

MODELS = {
    "study": StudyRootQueryRetrieveInformationModelFind,
    "patient": PatientRootQueryRetrieveInformationModelFind,
    "worklist": ModalityWorklistInformationFind,
}


def main() -> int:
    p = scu_arguments("PYFINDSCU")
    p.add_argument("--model", choices=MODELS, default="study")
    p.add_argument("--key", action="append", default=[])
    args = p.parse_args()

    query = Dataset()
    for item in args.key:
        keyword, _, value = item.partition("=")
        setattr(query, keyword, value)

    model = MODELS[args.model]
    ae = scu_ae(args, model)
    assoc = ae.associate(args.host, args.port, ae_title=args.aec)
    if assoc.is_rejected:
        print("rejected")
        return 2
    if not assoc.is_established:
        print("not established")
        return 3
    code = 4
    n = 0
    for status, identifier in assoc.send_c_find(query, model):
        if status is None or "Status" not in status:
            print("no response")
            code = 4
            break
        value = status.Status
        if value in (0xFF00, 0xFF01):
            n += 1
            keys = " ".join(f"{e.keyword}={e.value}" for e in identifier) if identifier else ""
            print(f"match {n} {keys}")
            continue
        print(f"status 0x{value:04X}")
        code = 0 if value == 0x0000 else 5
    if assoc.is_established:
        assoc.release()
    elif code == 0:
        code = 3
    return code


if __name__ == "__main__":
    sys.exit(main())
