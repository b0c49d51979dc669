"""Loaded by a test's subprocess: any attempt to open a network connection is recorded and refused."""

import os
import socket

_LOG = os.environ["COPQA_TEST_CONNECTION_LOG"]
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _refuse(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(f"{address!r}\n")
        raise OSError(101, "network is unreachable (test)")
    return None


def _connect(self, address):
    _refuse(self, address)
    return _real_connect(self, address)


def _connect_ex(self, address):
    _refuse(self, address)
    return _real_connect_ex(self, address)


def _getaddrinfo(host, *args, **kwargs):
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(f"lookup {host!r}\n")
    raise socket.gaierror(-2, "name resolution disabled (test)")


socket.socket.connect = _connect
socket.socket.connect_ex = _connect_ex
socket.getaddrinfo = _getaddrinfo
