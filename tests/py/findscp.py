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

import sys

from pydicom.dataset import Dataset
from pynetdicom import evt
from pynetdicom.sop_class import (
    ModalityWorklistInformationFind,
    PatientRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelFind,
    Verification,
)

from peer import say, scp_arguments, serve


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
    p = scp_arguments("PYFINDSCP")
    p.add_argument("--record", action="append", default=[])
    p.add_argument("--status", type=lambda s: int(s, 0), default=None)
    args = p.parse_args()
    records = [parse_record(r) for r in args.record]

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

    contexts = [
        Verification,
        StudyRootQueryRetrieveInformationModelFind,
        PatientRootQueryRetrieveInformationModelFind,
        ModalityWorklistInformationFind,
    ]
    serve(args, contexts, [(evt.EVT_C_FIND, on_find)])


if __name__ == "__main__":
    sys.exit(main())
