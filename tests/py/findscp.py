#!/usr/bin/env python3
"""pynetdicom Query/Retrieve FIND SCP (Study Root, Patient Root, Modality Worklist) for echoprobe's
interop tests, answering from an in-memory list of records.

Usage: findscp.py PORT [--ae-title AE] [--bind ADDR] [--require-called-aet]
                       [--record 'Keyword=value,Keyword=value,...']... [--status 0xNNNN]

Each --record is one match candidate (keywords as in pydicom's dictionary, e.g.
PatientID=P1,StudyInstanceUID=1.2.3,PatientName=DOE^JANE). A query matches a record when every
non-empty key of the identifier equals the record's value (a trailing * is a prefix match;
QueryRetrieveLevel and empty keys match anything); each match is answered Pending with the
identifier's keys filled from the record, then Success. --status answers every query with that
final status and no match instead (e.g. 0xC000, "unable to process").

Prints one line per event to stdout: "listening", "accepted calling=.. called=..", "find
level=L keys=K1,K2", "match N", "cancelled", "released", "aborted".
"""

import argparse
import sys

from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.sop_class import (
    ModalityWorklistInformationFind,
    PatientRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelFind,
    Verification,
)


def parse_record(text: str) -> Dataset:
    ds = Dataset()
    for item in text.split(","):
        keyword, _, value = item.partition("=")
        setattr(ds, keyword.strip(), value)
    return ds


def matches(identifier: Dataset, record: Dataset) -> bool:
    for elem in identifier:
        if elem.keyword in ("QueryRetrieveLevel", "SpecificCharacterSet") or elem.VR == "SQ":
            continue
        want = "" if elem.value is None else str(elem.value)
        if want == "":
            continue
        have = str(record.get(elem.keyword, ""))
        if want.endswith("*"):
            if not have.startswith(want[:-1]):
                return False
        elif want != have:
            return False
    return True


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--ae-title", default="PYFINDSCP")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--require-called-aet", action="store_true")
    p.add_argument("--record", action="append", default=[])
    p.add_argument("--status", type=lambda s: int(s, 0), default=None)
    args = p.parse_args()
    records = [parse_record(r) for r in args.record]

    def say(line: str) -> None:
        print(line, flush=True)

    def on_find(event):
        identifier = event.identifier
        level = identifier.get("QueryRetrieveLevel", "")
        say(f"find level={level} keys={','.join(e.keyword for e in identifier)}")
        if args.status is not None:
            yield args.status, None
            return
        n = 0
        for record in records:
            if event.is_cancelled:
                say("cancelled")
                yield 0xFE00, None
                return
            if not matches(identifier, record):
                continue
            answer = Dataset()
            for elem in identifier:
                if elem.VR == "SQ":
                    continue
                setattr(answer, elem.keyword, record.get(elem.keyword, elem.value))
            n += 1
            say(f"match {n}")
            yield 0xFF00, answer
        if event.is_cancelled:
            say("cancelled")
            yield 0xFE00, None
            return
        yield 0x0000, None

    def on_accepted(event):
        rq = event.assoc.requestor
        say(f"accepted calling={rq.ae_title} called={event.assoc.acceptor.ae_title}")

    handlers = [
        (evt.EVT_C_FIND, on_find),
        (evt.EVT_ACCEPTED, on_accepted),
        (evt.EVT_RELEASED, lambda e: say("released")),
        (evt.EVT_ABORTED, lambda e: say("aborted")),
    ]

    ae = AE(ae_title=args.ae_title)
    for context in (
        Verification,
        StudyRootQueryRetrieveInformationModelFind,
        PatientRootQueryRetrieveInformationModelFind,
        ModalityWorklistInformationFind,
    ):
        ae.add_supported_context(context)
    ae.require_called_aet = args.require_called_aet
    server = ae.start_server((args.bind, args.port), block=False, evt_handlers=handlers)
    say(f"listening {args.bind}:{args.port} ae={args.ae_title}")
    try:
        server.serve_forever()
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
