#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A test Semtech packet forwarder: speaks the upstream side of the UDP
protocol of Lora-net/packet_forwarder (PROTOCOL.TXT, version 2) to a server.

    from pktfwd import PacketForwarder, rxpk
    with PacketForwarder("127.0.0.1", 1700, "AA555A0000000001") as fwd:
        ack = fwd.push([rxpk(phy_bytes)], stat={"rxnb": 1})   # b"\\x02<tok>\\x01" or None
        ack = fwd.pull()                                       # PULL_ACK or None

Command line:

    pktfwd.py 127.0.0.1:1700 push --data 40DA1B0126... [--freq 868.1 --datr SF7BW125 ...]
    pktfwd.py [::1]:1700 pull
    pktfwd.py 127.0.0.1:1700 stat --json '{"rxnb": 3}'
    pktfwd.py 127.0.0.1:1700 raw 02123400aa555a0000000001...

Standard library only.
"""
import argparse
import base64
import json
import random
import socket
import sys
import time

PUSH_DATA, PUSH_ACK, PULL_DATA, PULL_RESP, PULL_ACK, TX_ACK = 0, 1, 2, 3, 4, 5
VERSION = 2


def gateway_bytes(gateway):
    """The 8-byte EUI from bytes, an int or hex text ("AA555A0000000001", "aa-55-...")."""
    if isinstance(gateway, (bytes, bytearray)):
        eui = bytes(gateway)
    elif isinstance(gateway, int):
        eui = gateway.to_bytes(8, "big")
    else:
        eui = bytes.fromhex(gateway.replace("-", "").replace(":", ""))
    if len(eui) != 8:
        raise ValueError(f"a gateway EUI has 8 bytes, not {len(eui)}")
    return eui


def header(token, identifier, version=VERSION):
    """Version, token (big-endian, as lora_pkt_fwd sends its random bytes), identifier."""
    return bytes([version]) + (token & 0xFFFF).to_bytes(2, "big") + bytes([identifier])


def push_data(token, gateway, body, version=VERSION):
    """A PUSH_DATA datagram; body is a dict (dumped compactly), str or bytes."""
    if isinstance(body, dict):
        body = json.dumps(body, separators=(",", ":"))
    if isinstance(body, str):
        body = body.encode()
    return header(token, PUSH_DATA, version) + gateway_bytes(gateway) + body


def pull_data(token, gateway, version=VERSION):
    return header(token, PULL_DATA, version) + gateway_bytes(gateway)


def tx_ack(token, gateway, error=None, version=VERSION):
    """A TX_ACK; without error, no JSON (the protocol's "no error occurred")."""
    body = b""
    if error is not None:
        body = json.dumps({"txpk_ack": {"error": error}}, separators=(",", ":")).encode()
    return header(token, TX_ACK, version) + gateway_bytes(gateway) + body


def rxpk(phy, **over):
    """An rxpk object for the PHYPayload phy (bytes) as lora_pkt_fwd writes one;
    keyword arguments replace or add members (None removes one)."""
    pk = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000000Z",
        "tmst": int(time.monotonic() * 1e6) & 0xFFFFFFFF,
        "chan": 0,
        "rfch": 0,
        "freq": 868.1,
        "stat": 1,
        "modu": "LORA",
        "datr": "SF7BW125",
        "codr": "4/5",
        "rssi": -60,
        "lsnr": 9.5,
        "size": len(phy),
        "data": base64.b64encode(phy).decode(),
    }
    for k, v in over.items():
        if v is None:
            pk.pop(k, None)
        else:
            pk[k] = v
    return pk


def parse_ack(datagram):
    """(version, token, identifier) of a 4-byte ack, or None for anything else."""
    if len(datagram) != 4:
        return None
    return datagram[0], int.from_bytes(datagram[1:3], "big"), datagram[3]


class PacketForwarder:
    """One forwarder: a UDP socket connected to the server, and a gateway EUI."""

    def __init__(self, host, port, gateway, version=VERSION, timeout=2.0):
        family, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        self.gateway = gateway_bytes(gateway)
        self.version = version
        self.timeout = timeout
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        # Connected: only the server's datagrams are received, and an ICMP
        # "port unreachable" surfaces as ConnectionRefusedError.
        self.sock.connect(addr)
        self.unmatched = []  # datagrams received while waiting for another token

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @staticmethod
    def token():
        return random.getrandbits(16)

    def send_raw(self, data):
        """Send any bytes as one datagram; nothing is awaited."""
        try:
            self.sock.send(bytes(data))
        except ConnectionRefusedError:
            # The ICMP error of an earlier datagram (no server then), reported
            # on this send, which did not go out: try once more.
            self.sock.send(bytes(data))

    def wait_ack(self, token, identifier, timeout=None):
        """The ack with this token and identifier (4 bytes), or None after timeout seconds."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(65535)
            except socket.timeout:
                return None
            except ConnectionRefusedError:
                return None
            a = parse_ack(d)
            if a and a[1] == token & 0xFFFF and a[2] == identifier:
                return d
            self.unmatched.append(d)

    def push_json(self, body, token=None, timeout=None):
        """Send a PUSH_DATA with this JSON (dict, str or bytes); the PUSH_ACK or None."""
        token = self.token() if token is None else token
        self.send_raw(push_data(token, self.gateway, body, self.version))
        return self.wait_ack(token, PUSH_ACK, timeout)

    def push(self, rxpks=(), stat=None, token=None, timeout=None):
        """Send rxpk objects (and a stat object) in one PUSH_DATA; the PUSH_ACK or None."""
        body = {}
        if rxpks:
            body["rxpk"] = list(rxpks)
        if stat is not None:
            body["stat"] = stat
        return self.push_json(body, token, timeout)

    def pull(self, token=None, timeout=None):
        """Send a PULL_DATA; the PULL_ACK or None."""
        token = self.token() if token is None else token
        self.send_raw(pull_data(token, self.gateway, self.version))
        return self.wait_ack(token, PULL_ACK, timeout)

    def wait_pull_resp(self, timeout=None):
        """The next PULL_RESP: (token, txpk dict), or None after timeout seconds."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            for i, d in enumerate(self.unmatched):
                if len(d) > 4 and d[3] == PULL_RESP:
                    del self.unmatched[i]
                    return (d[1] << 8 | d[2]), json.loads(d[4:])["txpk"]
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                self.unmatched.append(self.sock.recv(65535))
            except (socket.timeout, ConnectionRefusedError):
                return None

    def tx_ack(self, token, error=None):
        """Send a TX_ACK for a PULL_RESP's token; no answer is due."""
        self.send_raw(tx_ack(token, self.gateway, error, self.version))


def _hostport(text):
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"'{text}' is not HOST:PORT or [IPV6]:PORT")
    return host, int(port)


def main(argv=None):
    # The common options go before or after the command; only the top parser
    # has defaults, or a command's parser would overwrite what was given first.
    def add_common(parser, top):
        def d(v):
            return v if top else argparse.SUPPRESS
        parser.add_argument("--gateway", default=d("AA555A0000000001"),
                            help="gateway EUI, 16 hex digits")
        parser.add_argument("--version", type=int, default=d(VERSION),
                            help="protocol version byte")
        parser.add_argument("--timeout", type=float, default=d(2.0),
                            help="seconds to wait for the ack")
        parser.add_argument("--token", type=lambda s: int(s, 0), default=d(None),
                            help="token (default: random)")
        return parser

    common = add_common(argparse.ArgumentParser(add_help=False), False)
    p = add_common(argparse.ArgumentParser(description="A test Semtech UDP packet forwarder."),
                   True)
    p.add_argument("server", type=_hostport, help="HOST:PORT or [IPV6]:PORT")
    sub = p.add_subparsers(dest="cmd", required=True)
    ps = sub.add_parser("push", help="PUSH_DATA with one rxpk", parents=[common])
    ps.add_argument("--data", required=True, help="PHYPayload in hex")
    for name, kind in (("freq", float), ("datr", str), ("codr", str), ("modu", str),
                       ("stat", int), ("rssi", int), ("lsnr", float), ("chan", int),
                       ("tmst", int), ("size", int), ("time", str)):
        ps.add_argument("--" + name, type=kind)
    st = sub.add_parser("stat", help="PUSH_DATA with a stat object", parents=[common])
    st.add_argument("--json", default='{"rxnb":0,"rxok":0,"rxfw":0,"ackr":100.0}')
    sub.add_parser("pull", help="PULL_DATA", parents=[common])
    ta = sub.add_parser("tx-ack", help="TX_ACK (no answer is due)", parents=[common])
    ta.add_argument("--error", help='e.g. "NONE", "TOO_LATE"')
    raw = sub.add_parser("raw", help="any bytes, in hex; waits for an answer",
                         parents=[common])
    raw.add_argument("hex")
    a = p.parse_args(argv)

    with PacketForwarder(a.server[0], a.server[1], a.gateway, a.version, a.timeout) as fwd:
        token = fwd.token() if a.token is None else a.token
        if a.cmd == "push":
            over = {k: getattr(a, k) for k in ("freq", "datr", "codr", "modu", "stat", "rssi",
                                               "lsnr", "chan", "tmst", "size", "time")
                    if getattr(a, k) is not None}
            ack = fwd.push([rxpk(bytes.fromhex(a.data), **over)], token=token)
        elif a.cmd == "stat":
            ack = fwd.push(stat=json.loads(a.json), token=token)
        elif a.cmd == "pull":
            ack = fwd.pull(token=token)
        elif a.cmd == "tx-ack":
            fwd.tx_ack(token, a.error)
            print(f"TX_ACK token {token:#06x} sent")
            return 0
        else:
            fwd.send_raw(bytes.fromhex(a.hex))
            try:
                fwd.sock.settimeout(a.timeout)
                d = fwd.sock.recv(65535)
            except (socket.timeout, ConnectionRefusedError):
                print("no answer")
                return 1
            print(d.hex())
            return 0
    if ack is None:
        print(f"no ack for token {token:#06x}", file=sys.stderr)
        return 1
    v, t, ident = parse_ack(ack)
    name = {PUSH_ACK: "PUSH_ACK", PULL_ACK: "PULL_ACK"}.get(ident, f"{ident:#04x}")
    print(f"{name} version {v} token {t:#06x} ({ack.hex()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
