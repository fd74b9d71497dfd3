#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tests' own LoRaWAN end device (lwdevice.py) checked against published
test vectors (RFC 4493's AES-CMAC examples, a JoinRequest, a JoinAccept and
an uplink with their keys from public LoRaWAN decoder material) and against
fieldgate's C frame code both ways (tests/tools/mkframe, fieldgatectl
decode): what one builds, the other reads. The integration tests trust
lwdevice only because of this."""
import json
import os
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwdevice as lw  # noqa: E402
from fgtest import BUILDDIR, FIELDGATECTL  # noqa: E402

MKFRAME = os.path.join(BUILDDIR, "tests", "tools", "mkframe")

RFC4493_KEY = "2b7e151628aed2a6abf7158809cf4f3c"
RFC4493_MSG = bytes.fromhex(
    "6bc1bee22e409f96e93d7e117393172a" "ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef" "f69f2445df4f9b17ad2b417be66c3710")


def mkframe(*args):
    out = subprocess.run([MKFRAME, *map(str, args)], capture_output=True, text=True, check=True)
    return out.stdout.strip()


class Rfc4493(unittest.TestCase):
    """RFC 4493 section 4: AES-CMAC of the empty, 16-, 40- and 64-byte messages."""

    def test_cmac_examples(self):
        for n, want in ((0, "bb1d6929e95937287fa37d129b756746"),
                        (16, "070a16b46b4d4144f79bdd9dd04a287c"),
                        (40, "dfa66747de9ae63030ca32611497c827"),
                        (64, "51f0bebf7e3b9d92fc49741779363cfe")):
            with self.subTest(mlen=n):
                self.assertEqual(lw.aes_cmac(RFC4493_KEY, RFC4493_MSG[:n]).hex(), want)


class PublishedFrames(unittest.TestCase):
    # The uplink of the lora-packet decoder's documentation (anthonykirby/lora-packet):
    # DevAddr 49BE7DF1, FCnt 2, FPort 1, FRMPayload "test".
    UP = bytes.fromhex("40F17DBE4900020001954378762B11FF0D")
    UP_NWK = "44024241ed4ce9a68c6a8bc055233fd3"
    UP_APP = "ec925802ae430ca77fd3dd73cb2cc588"
    # A JoinRequest and the JoinAccept that answered it, from a public
    # walk-through of deciphering an OTAA JoinAccept (AppKey given there).
    APP_KEY = "B6B53F4A168A7A88BDF7EA135CE9CFCA"
    JOIN_REQ = bytes.fromhex("00DC0000D07ED5B3701E6FEDF57CEEAF0085CC587FE913")
    JOIN_ACC = bytes.fromhex("204DD85AE608B87FC4889970B7D2042C9E72959B0057AED6094B16003DF12DE145")

    def test_uplink_mic_and_payload(self):
        d = lw.Device.abp("49BE7DF1", self.UP_NWK, self.UP_APP)
        confirmed, fcnt, port, payload, fopts, fctrl = d.open_uplink(self.UP)
        self.assertEqual((confirmed, fcnt, port, payload, fopts, fctrl),
                         (False, 2, 1, b"test", b"", 0))

    def test_uplink_is_rebuilt_byte_for_byte(self):
        d = lw.Device.abp("49BE7DF1", self.UP_NWK, self.UP_APP, fcnt_up=2)
        self.assertEqual(d.uplink(b"test", f_port=1), self.UP)
        self.assertEqual(d.fcnt_up, 3)

    def test_uplink_with_a_wrong_key_or_a_flipped_bit_is_refused(self):
        d = lw.Device.abp("49BE7DF1", self.UP_APP, self.UP_APP)
        with self.assertRaises(lw.LoRaWANError):
            d.open_uplink(self.UP)
        d = lw.Device.abp("49BE7DF1", self.UP_NWK, self.UP_APP)
        bad = bytearray(self.UP)
        bad[9] ^= 1
        with self.assertRaises(lw.LoRaWANError):
            d.open_uplink(bad)

    def test_join_request(self):
        d = lw.Device.otaa("00AFEE7CF5ED6F1E", "70B3D57ED00000DC", self.APP_KEY)
        self.assertEqual(d.join_request(0xCC85), self.JOIN_REQ)

    def test_join_accept_fields_and_cflist(self):
        d = lw.Device.otaa("00AFEE7CF5ED6F1E", "70B3D57ED00000DC", self.APP_KEY)
        d.join_request(0xCC85)
        ja = d.accept(self.JOIN_ACC)
        self.assertEqual((ja.app_nonce, ja.net_id, ja.dev_addr), (0xE5063A, 0x13, 0x26012E43))
        self.assertEqual((ja.rx1_dr_offset, ja.rx2_dr, ja.rx_delay), (0, 3, 1))
        self.assertEqual(ja.cflist, {"type": 0, "freqs_hz": [867100000, 867300000, 867500000,
                                                             867700000, 867900000]})
        self.assertEqual(d.dev_addr, 0x26012E43)
        self.assertEqual(len(d.nwk_s_key), 16)
        self.assertNotEqual(d.nwk_s_key, d.app_s_key)

    def test_join_accept_under_another_key_is_refused(self):
        d = lw.Device.otaa("00AFEE7CF5ED6F1E", "70B3D57ED00000DC", RFC4493_KEY)
        with self.assertRaises(lw.LoRaWANError):
            d.accept(self.JOIN_ACC, dev_nonce=0xCC85)


class Downlinks(unittest.TestCase):
    NWK = bytes.fromhex("9A2F3C4D5E6F708192A3B4C5D6E7F801")
    APP = bytes.fromhex("1F2E3D4C5B6A79880796A5B4C3D2E1F0")
    ADDR = 0x26011BDA

    def dev(self, **kw):
        return lw.Device.abp(self.ADDR, self.NWK, self.APP, **kw)

    def down(self, fcnt, **kw):
        kw.setdefault("mtype", lw.UNCONFIRMED_DOWN)
        return lw.build_data(self.NWK, self.APP, dev_addr=self.ADDR, fcnt=fcnt, **kw)

    def test_payload_flags_and_mac_commands(self):
        t = 1_700_000_000.5
        gps = int(lw.unix_to_gps(t))
        fopts = bytes([0x02, 20, 1, 0x0D]) + struct.pack("<I", gps) + bytes([128]) + \
            bytes([0x03, 0x50, 0xFF, 0x00, 0x01])
        phy = self.down(0, mtype=lw.CONFIRMED_DOWN, f_port=10, payload=b"\x01\x02\x03",
                        fopts=fopts, ack=True, fpending_or_adrackreq=True)
        d = self.dev().open_downlink(phy)
        self.assertTrue(d.confirmed)
        self.assertTrue(d.ack)
        self.assertTrue(d.fpending)
        self.assertEqual((d.f_port, d.payload, d.fcnt), (10, b"\x01\x02\x03", 0))
        self.assertEqual([m.name for m in d.mac], ["LinkCheckAns", "DeviceTimeAns", "LinkADRReq"])
        self.assertEqual(d.mac[0].fields, {"margin": 20, "gw_cnt": 1})
        self.assertAlmostEqual(d.mac[1].fields["unix"], t, places=2)
        self.assertEqual(d.mac[2].fields, {"data_rate": 5, "tx_power": 0, "ch_mask": 0x00FF,
                                           "ch_mask_cntl": 0, "nb_trans": 1})

    def test_mac_only_downlink_has_no_fport(self):
        d = self.dev().open_downlink(self.down(0, fopts=b"\x02\x05\x01"))
        self.assertIsNone(d.f_port)
        self.assertEqual(d.payload, b"")
        self.assertEqual(d.mac_named("LinkCheckAns")[0].fields["margin"], 5)

    def test_fport_0_carries_mac_commands_under_the_nwkskey(self):
        d = self.dev().open_downlink(self.down(0, f_port=0, payload=b"\x02\x07\x01"))
        self.assertEqual(d.f_port, 0)
        self.assertEqual(d.mac[0].fields, {"margin": 7, "gw_cnt": 1})

    def test_fcnt_down_is_tracked_across_the_16_bit_rollover(self):
        dev = self.dev(fcnt_down=0xFFFE)
        self.assertEqual(dev.open_downlink(self.down(0xFFFF, f_port=1, payload=b"a")).fcnt, 0xFFFF)
        # On the air only 0x0000: the MIC is over 0x10000.
        d = dev.open_downlink(self.down(0x10000, f_port=1, payload=b"b"))
        self.assertEqual((d.fcnt, d.payload), (0x10000, b"b"))
        self.assertEqual(dev.fcnt_down, 0x10000)

    def test_replayed_or_foreign_downlinks_are_refused(self):
        dev = self.dev()
        phy = self.down(3, f_port=1, payload=b"x")
        dev.open_downlink(phy)
        with self.assertRaises(lw.LoRaWANError):
            dev.open_downlink(phy)  # FCntDown 3 again: read as 65539, MIC fails
        other = lw.Device.abp(self.ADDR + 1, self.NWK, self.APP)
        with self.assertRaises(lw.LoRaWANError):
            other.open_downlink(self.down(4, f_port=1, payload=b"x"))
        up = lw.build_data(self.NWK, self.APP, lw.UNCONFIRMED_UP, self.ADDR, 5, 1, b"x")
        with self.assertRaises(lw.LoRaWANError):
            dev.open_downlink(up)
        # The uplink direction's MIC does not open as a downlink (B0 Dir byte).
        fake = bytearray(up)
        fake[0] = lw.UNCONFIRMED_DOWN << 5
        with self.assertRaises(lw.LoRaWANError):
            self.dev().open_downlink(fake)

    def test_unknown_mac_command_is_an_error(self):
        with self.assertRaises(lw.LoRaWANError):
            self.dev().open_downlink(self.down(0, fopts=b"\x7f\x00"))

    def test_cflist_type_1_channel_mask(self):
        # US915 sub-band 2: channels 8..15 and the 500 kHz channel 65.
        cf = struct.pack("<HHHHH", 0xFF00, 0, 0, 0, 0x0002) + bytes(5) + b"\x01"
        got = lw.parse_cflist(cf)
        self.assertEqual(got["type"], 1)
        self.assertEqual(got["channels"], set(range(8, 16)) | {65})

    def test_gps_time(self):
        # 2017-01-01T00:00:00Z (Unix 1483228800) is GPS 1167264018 (18 leap seconds).
        self.assertEqual(lw.unix_to_gps(1483228800), 1167264018)
        self.assertEqual(lw.gps_to_unix(1167264018, 64), 1483228800.25)
        self.assertLess(abs(lw.gps_to_unix(int(lw.unix_to_gps(time.time()))) - time.time()), 1.5)


class AgainstMkframe(unittest.TestCase):
    """fieldgate's C code (via mkframe) and lwdevice agree, in both directions."""
    APP_KEY = "2B7E151628AED2A6ABF7158809CF4F3C"
    NWK = "9A2F3C4D5E6F708192A3B4C5D6E7F801"
    APP = "1F2E3D4C5B6A79880796A5B4C3D2E1F0"

    def test_join_request_is_the_same(self):
        dev = lw.Device.otaa("70B3D57ED0000042", "70B3D57ED0000000", self.APP_KEY)
        for nonce in (0, 1, 0x0101, 0xFFFF):
            with self.subTest(nonce=nonce):
                c = mkframe("join", self.APP_KEY, "70B3D57ED0000000", "70B3D57ED0000042", nonce)
                self.assertEqual(dev.join_request(nonce).hex(), c)

    def test_uplinks_are_the_same_and_open_both_ways(self):
        for fcnt, port, payload, confirmed in ((0, 2, "01670110", False), (7, 1, "", False),
                                               (70000, 223, "00" * 40, True)):
            with self.subTest(fcnt=fcnt, port=port):
                args = [self.NWK, self.APP, "26011BDA", fcnt, port, payload or "00"]
                if not payload:
                    args[-1] = ""
                c = bytes.fromhex(mkframe(*args, *(["confirmed"] if confirmed else [])))
                dev = lw.Device.abp("26011BDA", self.NWK, self.APP)
                ours = dev.uplink(bytes.fromhex(payload), f_port=port, confirmed=confirmed,
                                  fcnt=fcnt)
                self.assertEqual(ours.hex(), c.hex())
                last = fcnt - 1 if fcnt else None
                got = dev.open_uplink(c, last_fcnt=last)
                self.assertEqual(got[:4], (confirmed, fcnt, port, bytes.fromhex(payload)))

    def test_c_reads_our_join_accept(self):
        for cflist in (b"", bytes.fromhex("184F84E85684B85E84886684586E8400")):
            with self.subTest(cflist=len(cflist)):
                phy = lw.build_join_accept(self.APP_KEY, 0x00ABCD, 0x13, 0x26000042, 2, 3, 1,
                                           cflist)
                addr, nwk, app, rx1, rx2, delay = mkframe("accept", self.APP_KEY, 0x0101,
                                                          phy.hex()).split()
                dev = lw.Device.otaa("70B3D57ED0000042", "70B3D57ED0000000", self.APP_KEY)
                dev.join_request(0x0101)
                ja = dev.accept(phy)
                self.assertEqual(int(addr, 16), ja.dev_addr)
                self.assertEqual(nwk, ja.nwk_s_key.hex())
                self.assertEqual(app, ja.app_s_key.hex())
                self.assertEqual((int(rx1), int(rx2), int(delay)), (2, 3, 1))

    def test_c_reads_our_downlinks(self):
        """fieldgatectl decode (the daemon's frame code) checks the MIC of an
        lwdevice downlink with the direction bit 1 and decrypts its payload."""
        nwk, app = bytes.fromhex(self.NWK), bytes.fromhex(self.APP)
        for fcnt, mtype in ((0, lw.UNCONFIRMED_DOWN), (0x10005, lw.CONFIRMED_DOWN)):
            with self.subTest(fcnt=fcnt):
                phy = lw.build_data(nwk, app, mtype, 0x26011BDA, fcnt, 10, b"hello",
                                    fopts=bytes([0x02, 17, 1]), ack=True)
                r = subprocess.run([FIELDGATECTL, "decode", "lorawan", "--json", "--nwk-s-key",
                                    self.NWK, "--app-s-key", self.APP, "--fcnt", str(fcnt),
                                    phy.hex()], capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                got = json.loads(r.stdout)
                self.assertTrue(got["mic_ok"], got)
                self.assertEqual((got["fcnt"], got["fport"], got["payload"], got["fopts"]),
                                 (fcnt, 10, b"hello".hex(), "021101"))
                self.assertTrue(got["fctrl"]["ack"])
                # A flipped payload bit fails the C MIC check too.
                bad = bytearray(phy)
                bad[-6] ^= 1
                r = subprocess.run([FIELDGATECTL, "decode", "lorawan", "--json", "--nwk-s-key",
                                    self.NWK, "--app-s-key", self.APP, "--fcnt", str(fcnt),
                                    bad.hex()], capture_output=True, text=True)
                self.assertFalse(json.loads(r.stdout)["mic_ok"])

    def test_a_tampered_join_accept_is_refused_by_both(self):
        phy = bytearray(lw.build_join_accept(self.APP_KEY, 1, 0x13, 0x26000042))
        phy[5] ^= 0x40
        r = subprocess.run([MKFRAME, "accept", self.APP_KEY, "1", phy.hex()], capture_output=True)
        self.assertNotEqual(r.returncode, 0)
        dev = lw.Device.otaa("70B3D57ED0000042", "70B3D57ED0000000", self.APP_KEY)
        with self.assertRaises(lw.LoRaWANError):
            dev.accept(phy, dev_nonce=1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
