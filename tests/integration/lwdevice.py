#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A LoRaWAN 1.0.x end device for the integration tests, written from the
LoRaWAN 1.0.x specification (1.0.2/1.0.3, chapters 4 to 6) and RP002, not
from fieldgate's C code, so a test can check the gateway's downlinks with
code that shares none of its mistakes.

    from lwdevice import Device
    dev = Device.otaa(dev_eui="70B3D57ED0000042", join_eui="70B3D57ED0000000",
                      app_key="2B7E151628AED2A6ABF7158809CF4F3C")
    phy = dev.join_request(dev_nonce=1)          # bytes for pktfwd.rxpk()
    ja = dev.accept(join_accept_phy)             # decrypt, MIC check, keys, CFList
    phy = dev.uplink(b"\\x01\\x67\\x01\\x10", f_port=2, confirmed=True,
                     fopts=LINK_CHECK_REQ + DEVICE_TIME_REQ)
    down = dev.open_downlink(phy_from_pull_resp)  # MIC (dir 1, 32-bit FCntDown), decrypt, FOpts
    down.payload, down.f_port, down.ack, down.fpending, down.mac  # [MacCommand(...)]

Standard library plus python3-cryptography (AES-128 and AES-CMAC).
Multi-byte fields are little endian on the air (1.0.x section 4); keys,
EUIs and DevAddr are given and shown most significant byte first, as
operators write them.
"""
import struct
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# MType (MHDR bits 7..5), 1.0.x section 4.2.1.
JOIN_REQUEST, JOIN_ACCEPT, UNCONFIRMED_UP, UNCONFIRMED_DOWN, CONFIRMED_UP, CONFIRMED_DOWN = range(6)
MAJOR_LORAWAN_R1 = 0

# MAC commands an end device sends (section 5): CID + payload.
LINK_CHECK_REQ = b"\x02"
DEVICE_TIME_REQ = b"\x0d"  # 1.0.3 section 5.9


def link_adr_ans(power_ack=True, dr_ack=True, ch_mask_ack=True):
    """LinkADRAns (section 5.2): Status bit 2 power, bit 1 data rate, bit 0 channel mask."""
    return bytes([0x03, (power_ack << 2) | (dr_ack << 1) | int(ch_mask_ack)])


# Payload sizes of the MAC commands a network sends (CID -> bytes after the CID).
DOWN_MAC_SIZES = {
    0x02: 2,  # LinkCheckAns: Margin, GwCnt
    0x03: 4,  # LinkADRReq: DataRate_TXPower, ChMask (2), Redundancy
    0x04: 1,  # DutyCycleReq
    0x05: 4,  # RXParamSetupReq
    0x06: 0,  # DevStatusReq
    0x07: 5,  # NewChannelReq
    0x08: 1,  # RXTimingSetupReq
    0x09: 1,  # TxParamSetupReq
    0x0A: 4,  # DlChannelReq
    0x0D: 5,  # DeviceTimeAns: GPS seconds (4), fraction in 1/256 s
}
# ... and those a device sends.
UP_MAC_SIZES = {0x02: 0, 0x03: 1, 0x04: 0, 0x05: 1, 0x06: 2, 0x07: 1, 0x08: 0, 0x09: 0,
                0x0A: 1, 0x0D: 0}

# GPS epoch 1980-01-06T00:00:00Z as Unix seconds; GPS time runs ahead of UTC by
# the leap seconds since then (18 since 2017-01-01).
GPS_EPOCH_UNIX = 315964800
GPS_LEAP_SECONDS = 18

# The largest gap between the last FCntDown seen and the next (1.0.x MAX_FCNT_GAP).
MAX_FCNT_GAP = 16384


class LoRaWANError(ValueError):
    """A frame the device refuses: bad MIC, wrong type, replayed counter, truncated."""


def key(k):
    """16 key bytes from bytes or 32 hex digits."""
    b = bytes.fromhex(k) if isinstance(k, str) else bytes(k)
    if len(b) != 16:
        raise ValueError(f"a key has 16 bytes, not {len(b)}")
    return b


def eui(e):
    """An EUI-64 as an int from hex text (dashes and colons allowed) or an int."""
    if isinstance(e, int):
        return e
    return int(e.replace("-", "").replace(":", ""), 16)


def aes_encrypt(k, block):
    enc = Cipher(algorithms.AES(key(k)), modes.ECB()).encryptor()
    return enc.update(bytes(block)) + enc.finalize()


def aes_decrypt(k, block):
    dec = Cipher(algorithms.AES(key(k)), modes.ECB()).decryptor()
    return dec.update(bytes(block)) + dec.finalize()


def aes_cmac(k, msg):
    """AES-CMAC (RFC 4493) of msg under key k: 16 bytes."""
    c = cmac.CMAC(algorithms.AES(key(k)))
    c.update(bytes(msg))
    return c.finalize()


def mhdr(mtype):
    return bytes([(mtype << 5) | MAJOR_LORAWAN_R1])


def frm_crypt(k, direction, dev_addr, fcnt, data):
    """FRMPayload encryption and decryption (section 4.3.3): data XOR the AES
    blocks A_i = 0x01 | 0^4 | Dir | DevAddr | FCnt (32 bits) | 0x00 | i, i from 1."""
    out = bytearray()
    for i in range(0, len(data), 16):
        a = struct.pack("<B4xBIIBB", 0x01, direction, dev_addr, fcnt & 0xFFFFFFFF, 0,
                        i // 16 + 1)
        s = aes_encrypt(k, a)
        out += bytes(x ^ y for x, y in zip(data[i:i + 16], s))
    return bytes(out)


def data_mic(nwk_s_key, direction, dev_addr, fcnt, msg):
    """The MIC of a data frame (section 4.4): CMAC over B0 | msg, B0 = 0x49 |
    0^4 | Dir | DevAddr | FCnt (32 bits) | 0x00 | len(msg); first 4 bytes."""
    b0 = struct.pack("<B4xBIIBB", 0x49, direction, dev_addr, fcnt & 0xFFFFFFFF, 0, len(msg))
    return aes_cmac(nwk_s_key, b0 + msg)[:4]


@dataclass
class MacCommand:
    """One MAC command read from FOpts or an FPort 0 payload, its fields by name."""
    cid: int
    name: str
    raw: bytes
    fields: dict = field(default_factory=dict)


def _down_mac(cid, p):
    if cid == 0x02:
        return "LinkCheckAns", {"margin": p[0], "gw_cnt": p[1]}
    if cid == 0x03:
        ch_mask = p[1] | p[2] << 8
        return "LinkADRReq", {"data_rate": p[0] >> 4, "tx_power": p[0] & 0x0F,
                              "ch_mask": ch_mask, "ch_mask_cntl": (p[3] >> 4) & 0x07,
                              "nb_trans": p[3] & 0x0F}
    if cid == 0x0D:
        seconds = struct.unpack("<I", p[:4])[0]
        return "DeviceTimeAns", {"gps_seconds": seconds, "fraction": p[4],
                                 "unix": gps_to_unix(seconds, p[4])}
    if cid == 0x04:
        return "DutyCycleReq", {"max_dc_cycle": p[0] & 0x0F}
    if cid == 0x05:
        return "RXParamSetupReq", {"rx1_dr_offset": (p[0] >> 4) & 7, "rx2_dr": p[0] & 0x0F,
                                   "freq_hz": int.from_bytes(p[1:4], "little") * 100}
    if cid == 0x06:
        return "DevStatusReq", {}
    if cid == 0x07:
        return "NewChannelReq", {"ch_index": p[0], "freq_hz": int.from_bytes(p[1:4], "little") * 100,
                                 "max_dr": p[4] >> 4, "min_dr": p[4] & 0x0F}
    if cid == 0x08:
        return "RXTimingSetupReq", {"delay": p[0] & 0x0F}
    if cid == 0x09:
        return "TxParamSetupReq", {"raw": p[0]}
    return "DlChannelReq", {"ch_index": p[0], "freq_hz": int.from_bytes(p[1:4], "little") * 100}


def parse_mac(data, downlink=True):
    """The MAC commands in data, in order. An unknown CID or a truncated command
    is an error: the rest of the list cannot be read (section 5)."""
    sizes = DOWN_MAC_SIZES if downlink else UP_MAC_SIZES
    out = []
    i = 0
    while i < len(data):
        cid = data[i]
        if cid not in sizes:
            raise LoRaWANError(f"unknown MAC command {cid:#04x} at byte {i}")
        n = sizes[cid]
        p = data[i + 1:i + 1 + n]
        if len(p) != n:
            raise LoRaWANError(f"MAC command {cid:#04x} truncated")
        if downlink:
            name, fields = _down_mac(cid, p)
        else:
            name = {0x02: "LinkCheckReq", 0x03: "LinkADRAns", 0x0D: "DeviceTimeReq"}.get(
                cid, f"cid-{cid:#04x}")
            fields = {"status": p[0]} if cid == 0x03 else {}
        out.append(MacCommand(cid, name, bytes(data[i:i + 1 + n]), fields))
        i += 1 + n
    return out


def gps_to_unix(seconds, fraction=0):
    """Unix time (float seconds) of a DeviceTimeAns: GPS seconds and 1/256 s."""
    return GPS_EPOCH_UNIX + seconds - GPS_LEAP_SECONDS + fraction / 256.0


def unix_to_gps(t):
    return t - GPS_EPOCH_UNIX + GPS_LEAP_SECONDS


def parse_cflist(cf):
    """A JoinAccept's CFList (1.0.3 section 6.2.5, RP002): type 0 is five
    3-byte frequencies in units of 100 Hz (0: none), type 1 five 16-bit
    channel masks (ChMask0..3: the 64 125 kHz channels, ChMask4: the 8 500 kHz
    ones), then RFU bytes. Returns {"type": 0, "freqs_hz": [...]} or
    {"type": 1, "ch_masks": [...], "channels": set(enabled channel indices)}."""
    if len(cf) != 16:
        raise LoRaWANError(f"a CFList has 16 bytes, not {len(cf)}")
    kind = cf[15]
    if kind == 0:
        freqs = [int.from_bytes(cf[i:i + 3], "little") * 100 for i in range(0, 15, 3)]
        return {"type": 0, "freqs_hz": [f for f in freqs if f]}
    if kind == 1:
        masks = [int.from_bytes(cf[i:i + 2], "little") for i in range(0, 10, 2)]
        channels = {16 * m + b for m, v in enumerate(masks) for b in range(16) if v >> b & 1}
        return {"type": 1, "ch_masks": masks, "channels": channels}
    return {"type": kind, "raw": bytes(cf)}


@dataclass
class JoinAccept:
    app_nonce: int
    net_id: int
    dev_addr: int
    rx1_dr_offset: int
    rx2_dr: int
    rx_delay: int
    cflist: dict = None
    nwk_s_key: bytes = b""
    app_s_key: bytes = b""


@dataclass
class Downlink:
    """An opened data downlink."""
    confirmed: bool
    dev_addr: int
    adr: bool
    ack: bool
    fpending: bool
    fcnt: int           # the full 32-bit FCntDown the MIC was checked with
    fopts: bytes
    f_port: int         # None: no FPort (no FRMPayload)
    payload: bytes      # decrypted FRMPayload (b"" when none)
    mac: list           # MacCommand, from FOpts or an FPort 0 payload

    def mac_named(self, name):
        return [m for m in self.mac if m.name == name]


def derive_keys(app_key, app_nonce, net_id, dev_nonce):
    """NwkSKey and AppSKey (1.0.x section 6.2.5): aes128_encrypt(AppKey,
    0x01|0x02 | AppNonce | NetID | DevNonce | pad16)."""
    tail = app_nonce.to_bytes(3, "little") + net_id.to_bytes(3, "little") + \
        dev_nonce.to_bytes(2, "little")
    pad = bytes(16 - 1 - len(tail))
    return (aes_encrypt(app_key, b"\x01" + tail + pad), aes_encrypt(app_key, b"\x02" + tail + pad))


def build_join_accept(app_key, app_nonce, net_id, dev_addr, rx1_dr_offset=0, rx2_dr=0,
                      rx_delay=1, cflist=b""):
    """The network's side, for the self-test: a JoinAccept PHYPayload, MIC over
    MHDR | fields | CFList, then encrypted with AES *decrypt* (section 6.2.5)
    so the device opens it with AES encrypt."""
    body = app_nonce.to_bytes(3, "little") + net_id.to_bytes(3, "little") + \
        struct.pack("<I", dev_addr) + bytes([(rx1_dr_offset & 7) << 4 | (rx2_dr & 0x0F),
                                            rx_delay & 0x0F]) + bytes(cflist)
    h = mhdr(JOIN_ACCEPT)
    mic = aes_cmac(app_key, h + body)[:4]
    return h + aes_decrypt(app_key, body + mic)


def build_data(nwk_s_key, app_s_key, mtype, dev_addr, fcnt, f_port=None, payload=b"",
               fopts=b"", adr=False, ack=False, fpending_or_adrackreq=False):
    """Any data frame (up or down, by mtype): FHDR, FPort, FRMPayload encrypted
    with AppSKey (NwkSKey for FPort 0), MIC with NwkSKey over the 32-bit fcnt."""
    if len(fopts) > 15:
        raise ValueError("FOpts holds at most 15 bytes")
    if payload and f_port is None:
        raise ValueError("a payload needs an FPort")
    if f_port == 0 and fopts:
        raise ValueError("MAC commands go in FOpts or in an FPort 0 payload, not both")
    direction = 0 if mtype in (UNCONFIRMED_UP, CONFIRMED_UP) else 1
    fctrl = (adr << 7) | (fpending_or_adrackreq << (6 if direction == 0 else 4)) | \
        (ack << 5) | len(fopts)
    msg = mhdr(mtype) + struct.pack("<IBH", dev_addr, fctrl, fcnt & 0xFFFF) + bytes(fopts)
    if f_port is not None:
        k = nwk_s_key if f_port == 0 else app_s_key
        msg += bytes([f_port]) + frm_crypt(k, direction, dev_addr, fcnt, bytes(payload))
    return msg + data_mic(nwk_s_key, direction, dev_addr, fcnt, msg)


def _split_data(phy):
    """(mtype, dev_addr, fctrl, fcnt16, fopts, f_port, frm, msg, mic) of a data frame."""
    if len(phy) < 12:
        raise LoRaWANError(f"a data frame has at least 12 bytes, not {len(phy)}")
    mtype = phy[0] >> 5
    if phy[0] & 0x03 != MAJOR_LORAWAN_R1:
        raise LoRaWANError("not LoRaWAN R1")
    dev_addr, fctrl, fcnt16 = struct.unpack("<IBH", phy[1:8])
    n = fctrl & 0x0F
    msg, mic = phy[:-4], phy[-4:]
    if 8 + n > len(msg):
        raise LoRaWANError("FOpts longer than the frame")
    fopts = msg[8:8 + n]
    rest = msg[8 + n:]
    f_port = rest[0] if rest else None
    return mtype, dev_addr, fctrl, fcnt16, fopts, f_port, rest[1:], msg, mic


def _full_fcnt(last, fcnt16):
    """The 32-bit counter a 16-bit one stands for, the first at or after
    last + 1 (last None: none seen yet, the counter starts at 0)."""
    base = 0 if last is None else last + 1
    full = (base & ~0xFFFF) | fcnt16
    if full < base:
        full += 0x10000
    return full


class Device:
    """One end device: its identity, its session, its frame counters."""

    def __init__(self):
        self.dev_eui = self.join_eui = 0
        self.app_key = None
        self.dev_addr = None
        self.nwk_s_key = self.app_s_key = None
        self.fcnt_up = 0
        self.fcnt_down = None  # the last FCntDown accepted (32 bits), None: none yet
        self.dev_nonce = None
        self.join_accept = None

    @classmethod
    def otaa(cls, dev_eui, join_eui, app_key):
        d = cls()
        d.dev_eui, d.join_eui, d.app_key = eui(dev_eui), eui(join_eui), key(app_key)
        return d

    @classmethod
    def abp(cls, dev_addr, nwk_s_key, app_s_key, fcnt_up=0, fcnt_down=None):
        d = cls()
        d.dev_addr = dev_addr if isinstance(dev_addr, int) else int(dev_addr, 16)
        d.nwk_s_key, d.app_s_key = key(nwk_s_key), key(app_s_key)
        d.fcnt_up, d.fcnt_down = fcnt_up, fcnt_down
        return d

    @property
    def dev_addr_hex(self):
        return f"{self.dev_addr:08X}"

    # ---------------------------------------------------------------- OTAA

    def join_request(self, dev_nonce):
        """A JoinRequest (section 6.2.4): MHDR | AppEUI | DevEUI | DevNonce | MIC,
        the MIC the first 4 bytes of CMAC(AppKey, the rest)."""
        self.dev_nonce = dev_nonce & 0xFFFF
        msg = mhdr(JOIN_REQUEST) + struct.pack("<QQH", self.join_eui, self.dev_eui,
                                               self.dev_nonce)
        return msg + aes_cmac(self.app_key, msg)[:4]

    def accept(self, phy, dev_nonce=None):
        """Open a JoinAccept for the last JoinRequest: decrypt, check the MIC,
        read DLSettings, RxDelay and the CFList, derive the session keys. The
        counters restart at 0. Raises LoRaWANError."""
        phy = bytes(phy)
        if dev_nonce is None:
            dev_nonce = self.dev_nonce
        if len(phy) not in (17, 33):
            raise LoRaWANError(f"a JoinAccept has 17 or 33 bytes, not {len(phy)}")
        if phy[0] >> 5 != JOIN_ACCEPT:
            raise LoRaWANError(f"MType {phy[0] >> 5} is not a JoinAccept")
        clear = aes_encrypt(self.app_key, phy[1:])
        body, mic = clear[:-4], clear[-4:]
        if aes_cmac(self.app_key, phy[:1] + body)[:4] != mic:
            raise LoRaWANError("JoinAccept MIC mismatch")
        ja = JoinAccept(app_nonce=int.from_bytes(body[0:3], "little"),
                        net_id=int.from_bytes(body[3:6], "little"),
                        dev_addr=struct.unpack("<I", body[6:10])[0],
                        rx1_dr_offset=(body[10] >> 4) & 0x07, rx2_dr=body[10] & 0x0F,
                        rx_delay=body[11] & 0x0F,
                        cflist=parse_cflist(body[12:28]) if len(body) == 28 else None)
        if dev_nonce is not None:
            ja.nwk_s_key, ja.app_s_key = derive_keys(self.app_key, ja.app_nonce, ja.net_id,
                                                     dev_nonce)
            self.dev_addr = ja.dev_addr
            self.nwk_s_key, self.app_s_key = ja.nwk_s_key, ja.app_s_key
            self.fcnt_up, self.fcnt_down = 0, None
        self.join_accept = ja
        return ja

    # ---------------------------------------------------------------- data

    def uplink(self, payload=b"", f_port=None, confirmed=False, fopts=b"", ack=False,
               adr=False, fcnt=None):
        """The next uplink (FCntUp counts up after each). f_port None with a
        payload means 1; FOpts MAC commands (LINK_CHECK_REQ, DEVICE_TIME_REQ,
        link_adr_ans()) ride along; ack=True acknowledges a confirmed downlink."""
        if self.nwk_s_key is None:
            raise LoRaWANError("no session: join first")
        if payload and f_port is None:
            f_port = 1
        if fcnt is None:
            fcnt = self.fcnt_up
        self.fcnt_up = fcnt + 1
        return build_data(self.nwk_s_key, self.app_s_key,
                          CONFIRMED_UP if confirmed else UNCONFIRMED_UP, self.dev_addr, fcnt,
                          f_port, payload, fopts, adr=adr, ack=ack)

    def open_downlink(self, phy, track=True):
        """Open a data downlink for this device: MType 3 or 5, its DevAddr, the
        MIC over the 32-bit FCntDown (dir 1) the 16-bit one stands for, not
        older than the last one accepted; FRMPayload decrypted (AppSKey, or
        NwkSKey for FPort 0), FOpts (or an FPort 0 payload) read into MAC
        commands. track: remember its FCntDown. Raises LoRaWANError."""
        phy = bytes(phy)
        mtype, dev_addr, fctrl, fcnt16, fopts, f_port, frm, msg, mic = _split_data(phy)
        if mtype not in (UNCONFIRMED_DOWN, CONFIRMED_DOWN):
            raise LoRaWANError(f"MType {mtype} is not a data downlink")
        if dev_addr != self.dev_addr:
            raise LoRaWANError(f"DevAddr {dev_addr:08X} is not ours ({self.dev_addr:08X})")
        fcnt = _full_fcnt(self.fcnt_down, fcnt16)
        if self.fcnt_down is not None and fcnt - self.fcnt_down > MAX_FCNT_GAP:
            raise LoRaWANError(f"FCntDown {fcnt} too far ahead of {self.fcnt_down}")
        if data_mic(self.nwk_s_key, 1, dev_addr, fcnt, msg) != mic:
            raise LoRaWANError(f"downlink MIC mismatch (FCntDown {fcnt})")
        if f_port == 0 and fopts:
            raise LoRaWANError("MAC commands both in FOpts and on FPort 0")
        payload = b""
        if f_port is not None:
            k = self.nwk_s_key if f_port == 0 else self.app_s_key
            payload = frm_crypt(k, 1, dev_addr, fcnt, frm)
        mac = parse_mac(fopts if f_port != 0 else payload)
        if track:
            self.fcnt_down = fcnt
        return Downlink(confirmed=mtype == CONFIRMED_DOWN, dev_addr=dev_addr,
                        adr=bool(fctrl & 0x80), ack=bool(fctrl & 0x20),
                        fpending=bool(fctrl & 0x10), fcnt=fcnt, fopts=bytes(fopts),
                        f_port=f_port, payload=payload if f_port != 0 else b"", mac=mac)

    def open_uplink(self, phy, last_fcnt=None):
        """Read an uplink of this session (for checking other tools' frames):
        (confirmed, fcnt, f_port, payload, fopts, fctrl); MIC checked (dir 0)."""
        phy = bytes(phy)
        mtype, dev_addr, fctrl, fcnt16, fopts, f_port, frm, msg, mic = _split_data(phy)
        if mtype not in (UNCONFIRMED_UP, CONFIRMED_UP):
            raise LoRaWANError(f"MType {mtype} is not a data uplink")
        if dev_addr != self.dev_addr:
            raise LoRaWANError(f"DevAddr {dev_addr:08X} is not ours")
        fcnt = _full_fcnt(last_fcnt, fcnt16)
        if data_mic(self.nwk_s_key, 0, dev_addr, fcnt, msg) != mic:
            raise LoRaWANError("uplink MIC mismatch")
        payload = b""
        if f_port is not None:
            payload = frm_crypt(self.nwk_s_key if f_port == 0 else self.app_s_key, 0, dev_addr,
                                fcnt, frm)
        return mtype == CONFIRMED_UP, fcnt, f_port, payload, bytes(fopts), fctrl


__all__ = ["Device", "Downlink", "JoinAccept", "MacCommand", "LoRaWANError", "LINK_CHECK_REQ",
           "DEVICE_TIME_REQ", "link_adr_ans", "aes_cmac", "aes_encrypt", "frm_crypt",
           "data_mic", "derive_keys", "build_join_accept", "build_data", "parse_mac",
           "parse_cflist", "gps_to_unix", "unix_to_gps", "GPS_EPOCH_UNIX", "GPS_LEAP_SECONDS",
           "JOIN_REQUEST", "JOIN_ACCEPT", "UNCONFIRMED_UP", "UNCONFIRMED_DOWN", "CONFIRMED_UP",
           "CONFIRMED_DOWN"]
