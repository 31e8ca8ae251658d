#!/usr/bin/env python3
"""stall_proxy.py SOCKET PORT_FILE STALL_FILE — a TCP proxy on 127.0.0.1 in
front of a PostgreSQL unix socket, for the fault suite (lib_proxy.sh).

While STALL_FILE exists it forwards nothing, in either direction, and a new
connection (a cancel request, another client) is accepted by the kernel but
never answered: to the client, a network path that silently drops packets
(the kernel still acknowledges what arrives, so no TCP timer notices it).
Once STALL_FILE is gone it forwards again: the path has come back, and what
a client closed meanwhile is closed upstream too.

It writes its port to PORT_FILE once it listens, and ends when the shell
that started it does."""
import os
import select
import socket
import sys
import threading
import time

upstream, port_file, stall_file = sys.argv[1:4]
parent = os.getppid()


def stalled():
    return os.path.exists(stall_file)


def relay(client):
    while stalled():                      # a new connection waits unanswered
        time.sleep(0.05)
    up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        up.connect(upstream)
        peer = {client: up, up: client}
        while True:
            if stalled():
                time.sleep(0.05)
                continue
            ready, _, _ = select.select([client, up], [], [], 0.05)
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                peer[s].sendall(data)
    except OSError:
        pass
    finally:
        client.close()
        up.close()


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(listener.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    while os.getppid() == parent:
        try:
            client, _ = listener.accept()
        except socket.timeout:
            continue
        client.settimeout(None)
        threading.Thread(target=relay, args=(client,), daemon=True).start()


main()
