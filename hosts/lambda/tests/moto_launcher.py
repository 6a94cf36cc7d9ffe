"""Starts the moto AWS emulator on 127.0.0.1 for the Lambda host tests.

Prints the port once the server answers, then serves until its standard input closes (the
test process that started it ended), so no server outlives its tests.
"""
import logging
import socket
import sys

from moto.server import ThreadedMotoServer


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(port, flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
