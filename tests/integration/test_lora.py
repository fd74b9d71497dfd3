#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""LoRaWAN end to end: a test packet forwarder (pktfwd.py) sends real frames
(built by tests/tools/mkframe) over UDP to the real fieldgated, and a real
mosquitto subscriber gets the readings; hostile datagrams are counted and
logged while good traffic keeps flowing."""
import base64
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Broker, Subscriber, free_port  # noqa: E402
from fgtest import BUILDDIR, FIELDGATECTL, SRCDIR, Daemon, NotifySocket, run, tempdir  # noqa: E402
from pktfwd import PacketForwarder  # noqa: E402

MKFRAME = os.path.join(BUILDDIR, "tests", "tools", "mkframe")
NWK = "9A2F3C4D5E6F708192A3B4C5D6E7F801"
APP = "1F2E3D4C5B6A79880796A5B4C3D2E1F0"
ADDR = "26011BDA"
EUI = "70b3d57ed0000001"
GATEWAY = "AA555A0000000001"


def frame(fcnt, payload_hex, port=2, nwk=NWK, app=APP, addr=ADDR):
    out = subprocess.run([MKFRAME, nwk, app, addr, str(fcnt), str(port), payload_hex],
                         capture_output=True, text=True, check=True)
    return bytes.fromhex(out.stdout.strip())


def rxpk(phy, **over):
    pk = {"tmst": 3512348611, "chan": 2, "rfch": 0, "freq": 868.5, "stat": 1,
          "modu": "LORA", "datr": "SF9BW125", "codr": "4/5", "rssi": -71, "lsnr": 8.5,
          "size": len(phy), "data": base64.b64encode(phy).decode()}
    pk.update(over)
    return pk


def config(state, gwmp_port, broker_port, extra=""):
    return f"""
gateway = {{ id = "itest"; state_dir = "{state}"; runtime_dir = "{state}";
  log_level = "info"; trust_system_clock = true; }};
buffer = {{ commit_interval_ms = 50; }};
mqtt = {{ host = "127.0.0.1"; port = {broker_port}; stats_interval = 0; }};
sources = {{ gwmp = {{ enabled = true; listen = "127.0.0.1:{gwmp_port}"; }}; }};
lorawan = {{
  region = "EU868";
  devices = ( {{ name = "soil-1"; dev_eui = "{EUI.upper()}"; dev_addr = "{ADDR}";
                 nwk_s_key = "{NWK}"; app_s_key = "{APP}"; codec = "cayenne"; }} );
  {extra}
}};
"""


class LoraTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.conf = os.path.join(self.dir, "fieldgate.conf")
        self.notify = NotifySocket(self.dir)
        self.broker = Broker(self.dir)
        self.broker.start()
        self.sub = Subscriber(self.broker.port, topic="fieldgate/itest/lora/#")
        self.daemon = None
        self.port = free_port()
        self.fwd = None

    def tearDown(self):
        if self.daemon:
            self.daemon.kill()
        if self.fwd:
            self.fwd.close()
        self.sub.stop()
        self.broker.stop()
        self.notify.close()
        self.tmp.cleanup()

    def start(self, extra=""):
        with open(self.conf, "w") as f:
            f.write(config(self.dir, self.port, self.broker.port, extra))
        os.chmod(self.conf, 0o600)
        self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False)
        self.notify.wait_for("READY=1")
        self.daemon.wait_stderr("listening for a packet forwarder", 10)
        if not self.fwd:
            self.fwd = PacketForwarder("127.0.0.1", self.port, GATEWAY)
        return self.daemon

    def status(self):
        return json.loads(run([FIELDGATECTL, "-c", self.conf, "status", "--json"]).stdout)

    def packs(self):
        return [p for _, p in self.sub.readings()]

    def test_frames_from_a_packet_forwarder_arrive_as_readings(self):
        self.start()
        # Cayenne LPP: temperature 27.2 C on 1, humidity 40 % on 2, 3.6 V on 3.
        ack = self.fwd.push([rxpk(frame(1, "0167011002685003740168"))])
        self.assertIsNotNone(ack, "no PUSH_ACK")
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 1, 15), self.daemon.stderr())
        topic, pack = self.sub.readings()[0]
        self.assertEqual(topic, f"fieldgate/itest/lora/{EUI}")
        self.assertEqual(pack[0]["bn"], f"urn:dev:mac:{EUI}:")
        values = {r["n"]: (r.get("v"), r.get("u")) for r in pack}
        self.assertEqual(values["temperature_1"], (27.2, "Cel"))
        self.assertEqual(values["humidity_2"], (40, "%RH"))
        self.assertEqual(values["voltage_3"], (3.6, "V"))
        st = self.status()
        self.assertEqual(st["lora_accepted"], 1)
        self.assertEqual(st["gwmp_frames"], 1)
        # The forwarder's statistics become the gateway's own readings.
        self.fwd.push([], stat={"time": "2026-11-25 10:00:00 GMT", "rxnb": 7, "rxok": 6,
                                "rxfw": 6, "ackr": 100.0, "dwnb": 0, "txnb": 0})
        gsub = Subscriber(self.broker.port, topic="fieldgate/itest/gateway/#",
                          client_id="itest-gw")
        try:
            time.sleep(0.3)
            self.fwd.push([], stat={"rxnb": 9, "rxok": 8, "rxfw": 8})

            def got_it(s):
                return any({"n": "rx_received", "v": 9} == {"n": r["n"], "v": r.get("v")}
                           for _, p in s.readings() for r in p)
            self.assertTrue(gsub.wait(got_it, 15), self.daemon.stderr())
            topic = [t for t, p in gsub.readings() if any(r.get("v") == 9 for r in p)][0]
            self.assertEqual(topic, "fieldgate/itest/gateway/aa555a0000000001")
        finally:
            gsub.stop()

    def test_hostile_datagrams_are_counted_and_good_traffic_flows(self):
        d = self.start()
        self.fwd.send_raw(b"\x00garbage")
        self.fwd.send_raw(b"\x02\x12\x34\x00" + bytes.fromhex(GATEWAY) + b'{"rxpk":[{"tmst":')
        self.fwd.push([rxpk(frame(1, "0167011002685003740168"), data="!!not base64!!")])
        bad_mic = frame(2, "0167011002685003740168", nwk="00" * 16)
        self.fwd.push([rxpk(bad_mic)])
        self.fwd.push([rxpk(frame(3, "016700fa"))])
        self.fwd.push([rxpk(frame(3, "016700fa"))])  # replayed
        self.fwd.push([rxpk(frame(4, "0167010f"), stat=-1)])  # CRC error
        self.fwd.push([rxpk(frame(5, "0167ff"))])  # truncated Cayenne: published raw
        self.fwd.push([rxpk(frame(6, "016700c8"))])
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 3, 15), d.stderr())
        st = self.status()
        self.assertEqual(st["gwmp_refused"]["bad-version"], 1)
        self.assertEqual(st["gwmp_refused"]["bad-json"], 1)
        self.assertEqual(st["gwmp_refused"]["bad-base64"], 1)
        self.assertEqual(st["gwmp_refused"]["crc-error"], 1)
        self.assertEqual(st["lora_refused"]["bad-mic"], 1)
        self.assertEqual(st["lora_refused"]["replay"], 1)
        self.assertEqual(st["lora_codec_failed"], 1)
        self.assertEqual(st["lora_accepted"], 3)
        temps = [r.get("v") for p in self.packs() for r in p if r["n"] == "temperature_1"]
        self.assertEqual(temps, [25.0, 20.0])
        raw = [r.get("vs") for p in self.packs() for r in p if r["n"] == "payload"]
        self.assertEqual(raw, ["0167ff"])
        d.wait_stderr("soil-1: frame with counter 3 on air refused: replay (last accepted 3)")
        d.wait_stderr("soil-1: frame with counter 2 on air refused: bad-mic")
        d.wait_stderr(f"packet forwarder {GATEWAY.lower()}: bad-base64")
        d.wait_stderr("codec 'cayenne' refused the payload of frame 5 on port 2")
        self.assertIsNone(d.proc.poll())

    def test_frame_counters_survive_a_restart(self):
        d = self.start()
        self.fwd.push([rxpk(frame(5, "016700fa"))])
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 1, 15), d.stderr())
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(5), 0, d.stderr())
        d.kill()
        d = self.start()
        self.fwd.push([rxpk(frame(5, "016700fa"))])  # the same frame again
        self.fwd.push([rxpk(frame(6, "016700c8"))])
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 2, 15), d.stderr())
        time.sleep(0.3)
        st = self.status()
        self.assertEqual(st["lora_refused"]["replay"], 1)
        self.assertEqual(st["lora_accepted"], 1)
        self.assertEqual(len(self.sub.readings()), 2)

    def test_unknown_devices_are_dropped_or_forwarded(self):
        d = self.start('unknown = "forward";')
        stranger = frame(1, "0167010f", addr="26FFFFFF")
        self.fwd.push([rxpk(stranger)])
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 1, 15), d.stderr())
        topic, pack = self.sub.readings()[0]
        self.assertEqual(topic, "fieldgate/itest/lora/26ffffff")
        self.assertEqual(pack[0]["n"], "phy_payload")
        self.assertEqual(pack[0]["vs"], stranger.hex())
        self.assertEqual(self.status()["lora_forwarded"], 1)

    def test_simulated_lorawan_devices_go_through_the_decoder(self):
        text = config(self.dir, self.port, self.broker.port).replace(
            "sources = {", "sources = { sim = { enabled = true; devices = 1; interval_ms = 100;"
            " seed = 7; lorawan = true; };")
        with open(self.conf, "w") as f:
            f.write(text)
        self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False)
        self.notify.wait_for("READY=1")
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 5, 15), self.daemon.stderr())
        for topic, pack in self.sub.readings():
            self.assertEqual(topic, f"fieldgate/itest/lora/{EUI}")
            self.assertEqual([r["n"] for r in pack], ["temperature_1", "humidity_2", "voltage_3"])
            self.assertEqual([r["u"] for r in pack], ["Cel", "%RH", "V"])
        st = self.status()
        self.assertGreaterEqual(st["lora_accepted"], 5)
        self.assertEqual(sum(st["lora_refused"].values()), 0)

    def test_decode_the_sample_configurations_device(self):
        sample = os.path.join(SRCDIR, "conf", "fieldgate.conf")
        with open(sample) as f:
            text = f.read()
        hexframe = text.split("fieldgatectl decode lorawan ")[1].split()[0]
        out = run([FIELDGATECTL, "decode", "lorawan", "--config", sample, hexframe])
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("device: soil-1 (dev_eui 70b3d57ed0000001, codec cayenne)", out.stdout)
        self.assertIn("mic: 291c8e0a ok", out.stdout)
        self.assertIn("  temperature_1 = 27.2 Cel\n", out.stdout)
        # Base64 and keys on the command line; a wrong NwkSKey fails the MIC.
        b64 = base64.b64encode(bytes.fromhex(hexframe)).decode()
        out = run([FIELDGATECTL, "decode", "lorawan", "--nwk-s-key", "00" * 16,
                   "--app-s-key", APP, "--codec", "cayenne", b64])
        self.assertEqual(out.returncode, 1)
        self.assertRegex(out.stdout, r"mic: 291c8e0a BAD \(computed [0-9a-f]{8} ")


if __name__ == "__main__":
    unittest.main(verbosity=2)
