"""What the pynetdicom peers of echoprobe's interop tests share (imported from the scripts' own folder).

SCPs: the command line (PORT, --ae-title, --bind, --require-called-aet), one line per event on stdout
("listening ...", "accepted calling=.. called=..", "released", "aborted") and the server loop, until killed.
SCUs: the command line (HOST PORT, --aet, --aec, --timeout) and an AE with every timeout set to --timeout.
"""

import argparse
import sys

from pynetdicom import AE, evt


def say(line: str) -> None:
    print(line, flush=True)


def scp_arguments(ae_title: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--ae-title", default=ae_title)
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--require-called-aet", action="store_true")
    return p


def serve(args, contexts, handlers, require_calling_aet=()) -> None:
    """Serves `contexts` with `handlers` (plus the accepted/released/aborted lines) until killed."""

    def on_accepted(event):
        rq = event.assoc.requestor
        say(f"accepted calling={rq.ae_title} called={event.assoc.acceptor.ae_title}")

    handlers = handlers + [
        (evt.EVT_ACCEPTED, on_accepted),
        (evt.EVT_RELEASED, lambda e: say("released")),
        (evt.EVT_ABORTED, lambda e: say("aborted")),
    ]
    ae = AE(ae_title=args.ae_title)
    for context in contexts:
        ae.add_supported_context(context)
    ae.require_called_aet = args.require_called_aet
    ae.require_calling_aet = list(require_calling_aet)
    server = ae.start_server((args.bind, args.port), block=False, evt_handlers=handlers)
    say(f"listening {args.bind}:{args.port} ae={args.ae_title}")
    try:
        server.serve_forever()
    finally:
        server.shutdown()


def scu_arguments(aet: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--aet", default=aet)
    p.add_argument("--aec", default="ANY-SCP")
    p.add_argument("--timeout", type=float, default=10.0)
    return p


def scu_ae(args, context) -> AE:
    """An AE requesting `context`, every timeout --timeout; stdout line-buffered (the tests read it as we run)."""
    sys.stdout.reconfigure(line_buffering=True)
    ae = AE(ae_title=args.aet)
    ae.acse_timeout = args.timeout
    ae.dimse_timeout = args.timeout
    ae.network_timeout = args.timeout
    ae.add_requested_context(context)
    return ae
