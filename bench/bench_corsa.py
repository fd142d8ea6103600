"""One SOAP call to the Corsa test server: Nagle's algorithm on (peer) against TCP_NODELAY.

    .venv/bin/python bench/bench_corsa.py [--calls 30]

The test server writes an answer's headers and body in two sends; with Nagle on,
the body waits for the client's delayed ACK of the headers. The server now sets
TCP_NODELAY on accepted sockets; the peer is the same server with it switched off,
in the same run. Times ``find`` (one GetDocumentList round trip) on a connected sink.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imi_mailwatch.adapters.corsa_soap import CorsaSoapTaskSink
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.testing.corsa_server import start
from tests.corsa.conftest import UNITS, corsa_config, task_request


def median_call(nodelay: bool, calls: int) -> float:
    server, url = start(units=UNITS)
    httpd = server._httpd
    assert httpd is not None
    httpd.RequestHandlerClass.disable_nagle_algorithm = nodelay  # type: ignore[attr-defined]
    sink = CorsaSoapTaskSink(corsa_config(url), clock=FakeClock(), stop=threading.Event())
    try:
        sink.create(task_request("100000"))
        times = []
        for _ in range(calls):
            start_ = time.perf_counter()
            sink.find("100000")
            times.append(time.perf_counter() - start_)
    finally:
        sink.close()
        server.stop()
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    peer = median_call(False, args.calls)
    ours = median_call(True, args.calls)
    print(f"find() on the Corsa test server, median of {args.calls} calls:")
    print(f"  Nagle on (peer)   {peer * 1000:6.1f} ms")
    print(f"  TCP_NODELAY       {ours * 1000:6.1f} ms  ({ours / peer:.2f}x the peer)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
