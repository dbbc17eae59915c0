#!/usr/bin/env python3
"""A loopback TCP proxy for the fault tests: relays 127.0.0.1:PORT to 127.0.0.1:TARGET_PORT.

SIGUSR1 freezes every connection open at that moment: nothing more is read from or written to
either socket, and neither is closed. That is a middlebox (a NAT, a firewall, a stuck proxy) that
stopped passing bytes while TCP still looks healthy: each end's kernel goes on acknowledging, so
keepalives do not notice; only a client's own reply deadline does.
SIGUSR2 resets every connection open at that moment (RST to both ends): a proxy closed.
New connections are relayed as ever after either. Every change is one line on stdout.

usage: tcp_proxy.py TARGET_PORT PORT_FILE   (PORT_FILE: where the listening port is written)
"""
import os
import selectors
import signal
import socket
import struct
import sys

target = int(sys.argv[1])
sel = selectors.DefaultSelector()
listener = socket.create_server(("127.0.0.1", 0))
listener.setblocking(False)
sel.register(listener, selectors.EVENT_READ)
peers = {}  # socket -> the socket it relays to
held = []  # frozen sockets: kept open, never served again
asked = {"freeze": False, "reset": False, "stop": False}


def ask(what):
    def handler(*_):
        asked[what] = True
    return handler


signal.signal(signal.SIGUSR1, ask("freeze"))
signal.signal(signal.SIGUSR2, ask("reset"))
signal.signal(signal.SIGTERM, ask("stop"))


def drop(s, reset=False):
    if s not in peers:
        return
    for x in (s, peers.pop(s)):
        peers.pop(x, None)
        sel.unregister(x)
        if reset:
            x.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        x.close()


def accept():
    client, _ = listener.accept()
    try:
        upstream = socket.create_connection(("127.0.0.1", target), timeout=5)
    except OSError:
        client.close()
        return
    for x in (client, upstream):
        x.setblocking(False)
        x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sel.register(x, selectors.EVENT_READ)
    peers[client], peers[upstream] = upstream, client


def relay(s):
    try:
        data = s.recv(1 << 16)
    except OSError:
        data = b""
    if not data:
        drop(s)
        return
    peer = peers[s]
    peer.setblocking(True)
    try:
        peer.sendall(data)
    except OSError:
        drop(s)
        return
    peer.setblocking(False)


tmp = sys.argv[2] + ".tmp"
with open(tmp, "w") as f:
    f.write(f"{listener.getsockname()[1]}\n")
os.rename(tmp, sys.argv[2])

while not asked["stop"]:
    for key, _ in sel.select(timeout=0.1):
        if key.fileobj is listener:
            accept()
        elif key.fileobj in peers:
            relay(key.fileobj)
    if asked["freeze"]:
        asked["freeze"] = False
        for s in list(peers):
            sel.unregister(s)
            held.append(s)
        print(f"tcp_proxy: froze {len(peers) // 2} connections", flush=True)
        peers.clear()
    if asked["reset"]:
        asked["reset"] = False
        n = len(peers) // 2
        while peers:
            drop(next(iter(peers)), reset=True)
        print(f"tcp_proxy: reset {n} connections", flush=True)
