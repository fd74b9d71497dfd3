#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SX130x concentrator source end to end, without a concentrator:
tests/loragw/fieldgated-double is the daemon built from the same sources
with a test double of libloragw (tests/loragw/loragw-double.c), fed real
LoRaWAN frames (tests/tools/mkframe) from a script file and recording every
HAL call it is given; readings arrive at a real mosquitto subscriber. The
reset and power lines go through the simulated GPIO chip, whose log lines
show the sequence. Answers (an ACK, a JoinAccept) wait in the source's
transmit queue and reach lgw_send shortly before their time on the
double's counter, which runs in real time. The normal fieldgated, built
without libloragw, refuses a configuration that enables the concentrator."""
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Broker, Subscriber  # noqa: E402
from fgtest import BUILDDIR, FIELDGATECTL, FIELDGATED, Daemon, NotifySocket, run, tempdir  # noqa: E402

DOUBLE = os.path.join(BUILDDIR, "tests", "loragw", "fieldgated-double")
MKFRAME = os.path.join(BUILDDIR, "tests", "tools", "mkframe")
NWK = "9A2F3C4D5E6F708192A3B4C5D6E7F801"
APP = "1F2E3D4C5B6A79880796A5B4C3D2E1F0"
ADDR = "26011BDA"
DEV_EUI = "70b3d57ed0000001"
CHIP_EUI = "0016c001ff10a235"
APP_KEY = "2B7E151628AED2A6ABF7158809CF4F3C"
OTAA_EUI = "70B3D57ED0000042"
JOIN_EUI = "70B3D57ED0000000"
# The source hands a queued transmission to lgw_send 40 ms before its time, and
# drops it as late under 5 ms: how far ahead of count_us the double's counter was.
LEAD_MAX_US = 40_000
LEAD_MIN_US = 4_000


def mkframe(*args):
    out = subprocess.run([MKFRAME, *map(str, args)], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def frame(fcnt, payload_hex, port=2):
    return mkframe(NWK, APP, ADDR, fcnt, port, payload_hex)


def rx(phy_hex, **kw):
    """One packet line of the double's script."""
    fields = {"freq": 868300000, "if": 1, "rf": 1, "sf": 9, "bw": 125000, "cr": "4/5",
              "rssi": -71, "snr": 8.5, "crc": "ok", "count_us": 3512348611}
    fields.update(kw)
    return "rx " + " ".join(f"{k}={v}" for k, v in fields.items()) + f" payload={phy_hex}\n"


def built_with_libloragw():
    """Whether configure linked src/fieldgated with a HAL (LORAGW_LIBS in the Makefile)."""
    with open(os.path.join(BUILDDIR, "Makefile")) as f:
        return any(line.startswith("LORAGW_LIBS = ") and line.strip() != "LORAGW_LIBS ="
                   for line in f)


ABP_DEVICE = (f'{{ name = "soil-1"; dev_eui = "{DEV_EUI.upper()}"; dev_addr = "{ADDR}";\n'
              f'  nwk_s_key = "{NWK}"; app_s_key = "{APP}"; codec = "cayenne"; }}')
OTAA_DEVICE = (f'{{ name = "door-1"; dev_eui = "{OTAA_EUI}"; join_eui = "{JOIN_EUI}";\n'
               f'  app_key = "{APP_KEY}"; codec = "cayenne"; }}')


def config(state, broker_port, extra="", sx130x="", devices=(ABP_DEVICE,), gateway_id="itest"):
    name = f'id = "{gateway_id}";' if gateway_id else ""
    return f"""
gateway = {{ {name} state_dir = "{state}"; runtime_dir = "{state}";
  log_level = "info"; trust_system_clock = true; }};
buffer = {{ commit_interval_ms = 50; }};
mqtt = {{ host = "127.0.0.1"; port = {broker_port}; stats_interval = 0; }};
sources = {{
  sx130x = {{
    enabled = true;
    board = "wm1302";
    reset_gpio = "sim:17";
    power_gpio = "sim:18";
    spi = "{state}/spidev0.0";
    stat_interval = 1;
    {sx130x}
  }};
}};
lorawan = {{
  region = "EU868";
  net_id = 0x000013;
  devices = ( {", ".join(devices)} );
}};
{extra}
"""


class Sx130xTest(unittest.TestCase):
    def setUp(self):
        if not os.access(DOUBLE, os.X_OK):
            self.skipTest(f"{DOUBLE} not built (make check builds it)")
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.conf = os.path.join(self.dir, "fieldgate.conf")
        self.script = os.path.join(self.dir, "loragw.script")
        self.record = os.path.join(self.dir, "loragw.record")
        # The SPI device the source names in its hints; the double opens nothing.
        open(os.path.join(self.dir, "spidev0.0"), "w").close()
        self.notify = NotifySocket(self.dir)
        self.broker = Broker(self.dir)
        self.broker.start()
        self.sub = Subscriber(self.broker.port, topic="fieldgate/itest/#")
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.kill()
        self.sub.stop()
        self.broker.stop()
        self.notify.close()
        self.tmp.cleanup()

    def start(self, script, sx130x="", devices=(ABP_DEVICE,), gateway_id="itest"):
        with open(self.script, "w") as f:
            f.write(script)
        with open(self.conf, "w") as f:
            f.write(config(self.dir, self.broker.port, sx130x=sx130x, devices=devices,
                           gateway_id=gateway_id))
        os.chmod(self.conf, 0o600)
        env = {"FG_LORAGW_SCRIPT": self.script, "FG_LORAGW_RECORD": self.record,
               "FG_LORAGW_EUI": CHIP_EUI.upper()}
        self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False, env=env, binary=DOUBLE)
        self.notify.wait_for("READY=1")
        return self.daemon

    def recorded(self, receives=False):
        """The double's record; without the lines of packets lgw_receive handed out."""
        try:
            with open(self.record) as f:
                return [line.rstrip("\n") for line in f
                        if receives or not line.startswith("lgw_receive ")]
        except FileNotFoundError:
            return []

    def received_count_us(self):
        """count_us of each packet the double handed out."""
        return [int(line.split("count_us=")[1].split()[0])
                for line in self.recorded(receives=True) if line.startswith("lgw_receive ")]

    def wait_send(self, timeout):
        """The fields of the one lgw_send call, once made."""
        deadline = time.monotonic() + timeout
        while not any(r.startswith("lgw_send") for r in self.recorded()):
            self.assertLess(time.monotonic(), deadline,
                            f"no lgw_send: {self.recorded()} {self.daemon.stderr()}")
            time.sleep(0.05)
        send = [r for r in self.recorded() if r.startswith("lgw_send")]
        self.assertEqual(len(send), 1, send)
        return dict(kv.split("=", 1) for kv in send[0].split()[1:])

    def assert_just_in_time(self, f):
        """lgw_send was called shortly before count_us, with the TX modem free."""
        lead = (int(f["count_us"]) - int(f["counter"])) % 2**32
        self.assertLessEqual(lead, LEAD_MAX_US, f)
        self.assertGreaterEqual(lead, LEAD_MIN_US, f)
        self.assertEqual(f["tx_status"], "free")

    def status(self):
        out = run([FIELDGATECTL, "-c", self.conf, "status", "--json"])
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def log_index(self, text, after=0):
        err = self.daemon.stderr()
        i = err.find(text, after)
        self.assertGreaterEqual(i, 0, f"{text!r} not in the log: {err}")
        return i

    def test_frames_from_the_concentrator_arrive_as_readings(self):
        # Cayenne LPP: 27.2 C on channel 1, 40 %RH on 2, 3.6 V on 3; then one more frame.
        script = (rx(frame(1, "0167011002685003740168"))
                  + rx(frame(2, "016700fa"), crc="bad")     # counted, not handed on
                  + rx(frame(2, "016700fa"), crc="none")    # no CRC: a downlink, dropped
                  + "pause 300\n"
                  + rx(frame(3, "016700c8"), freq=867100000, sf=12, rssi=-117.6, snr=-14.25,
                       count_us=4000000000)
                  + "temperature 36.5\n")
        d = self.start(script)
        d.wait_stderr("concentrator started", 10)
        self.assertTrue(self.sub.wait(
            lambda s: len([t for t, _ in s.readings() if "/lora/" in t]) >= 2, 15), d.stderr())
        packs = [p for t, p in self.sub.readings() if t == f"fieldgate/itest/lora/{DEV_EUI}"]
        self.assertEqual(len(packs), 2, packs)
        values = {r["n"]: (r.get("v"), r.get("u")) for r in packs[0]}
        self.assertEqual(values["temperature_1"], (27.2, "Cel"))
        self.assertEqual(values["humidity_2"], (40, "%RH"))
        self.assertEqual(values["voltage_3"], (3.6, "V"))
        self.assertEqual({r["n"]: r.get("v") for r in packs[1]}["temperature_1"], 20.0)

        # The reset sequence of reset_lgw.sh through the simulated chip, in order, then the start.
        steps = ["sim line 18 requested as output, set to 0 (fieldgate-sx130x-power)",
                 "sim line 18 set to 1 (fieldgate-sx130x-power)",
                 "sim line 17 requested as output, set to 0 (fieldgate-sx130x-reset)",
                 "sim line 17 set to 1 (fieldgate-sx130x-reset)",
                 "sim line 17 set to 0 (fieldgate-sx130x-reset)",
                 f"concentrator started: sx1302 on '{self.dir}/spidev0.0' (board wm1302), "
                 f"EUI {CHIP_EUI}, region EU868"]
        at = 0
        for step in steps:
            at = self.log_index(step, at) + 1

        # What the HAL was told: the board on our SPI device, the EU868 plan on two SX1250s.
        rec = self.recorded()
        self.assertEqual(rec[0], "lgw_board_setconf lorawan_public=1 clksrc=0 full_duplex=0 "
                                 f"com_type=spi com_path={self.dir}/spidev0.0")
        self.assertIn("lgw_rxrf_setconf rf_chain=0 enable=1 freq_hz=867500000 rssi_offset=-215.4 "
                      "type=sx1250 tx_enable=1", rec)
        self.assertIn("lgw_rxrf_setconf rf_chain=1 enable=1 freq_hz=868500000 rssi_offset=-215.4 "
                      "type=sx1250 tx_enable=0", rec)
        self.assertIn("lgw_rxif_setconf if_chain=0 enable=1 rf_chain=1 freq_hz=-400000 "
                      "bandwidth=0 datarate=0", rec)
        self.assertIn("lgw_rxif_setconf if_chain=8 enable=1 rf_chain=1 freq_hz=-200000 "
                      "bandwidth=250000 datarate=7", rec)
        self.assertIn("lgw_rxif_setconf if_chain=9 enable=1 rf_chain=1 freq_hz=300000 "
                      "bandwidth=125000 datarate=50000", rec)
        self.assertEqual(rec[-1], "lgw_start result=ok")
        # The four packets handed out, with the count_us the script gave them.
        self.assertEqual(self.received_count_us(), [3512348611] * 3 + [4000000000])

        # The counters, and the gateway's own readings named by the concentrator's EUI.
        st = self.status()
        self.assertEqual(st["sx130x_state"], "running")
        self.assertEqual(st["sx130x_eui"], CHIP_EUI)
        self.assertEqual(st["sx130x_rx_packets"], 4)
        self.assertEqual(st["sx130x_rx_crc_ok"], 2)
        self.assertEqual(st["sx130x_rx_crc_bad"], 1)
        self.assertEqual(st["sx130x_rx_no_crc"], 1)
        self.assertEqual(st["sx130x_frames"], 2)
        self.assertEqual(st["lora_accepted"], 2)
        self.assertEqual(st["sx130x_starts"], 1)
        self.assertEqual(st["sx130x_start_failures"], 0)

        def gateway(s):
            return [p for t, p in s.readings() if t == f"fieldgate/itest/gateway/{CHIP_EUI}"]

        self.assertTrue(self.sub.wait(
            lambda s: any(r["n"] == "temperature" for p in gateway(s) for r in p), 10), d.stderr())
        recs = [r for p in gateway(self.sub) for r in p]
        self.assertIn({"n": "temperature", "u": "Cel", "v": 36.5},
                      [{k: r.get(k) for k in ("n", "u", "v")} for r in recs])
        total = {}
        for r in recs:
            if r["n"] in ("rx_received", "rx_crc_bad", "rx_forwarded"):
                total[r["n"]] = total.get(r["n"], 0) + r["v"]
        self.assertEqual(total, {"rx_received": 4, "rx_crc_bad": 1, "rx_forwarded": 2})

    def test_a_confirmed_uplink_is_acknowledged_through_the_concentrator(self):
        # Heard now on the double's counter, which runs on from lgw_start.
        d = self.start(rx(mkframe(NWK, APP, ADDR, 5, 2, "016700fa", "confirmed"), count_us="+0"))
        self.assertTrue(self.sub.wait(
            lambda s: any("/lora/" in t for t, _ in s.readings()), 15), d.stderr())
        f = self.wait_send(10)
        [up] = self.received_count_us()
        # EU868 RX1: RECEIVE_DELAY1 after the uplink on the concentrator's counter, the
        # uplink's frequency and SF, inverted polarity, no CRC, from the radio that sends;
        # queued, and handed to lgw_send just before that time, not a second early.
        self.assertEqual(f["tx_mode"], "timestamped")
        self.assertEqual(int(f["count_us"]), (up + 1_000_000) % 2**32)
        self.assert_just_in_time(f)
        self.assertEqual(int(f["freq_hz"]), 868300000)
        self.assertEqual((f["modulation"], f["bandwidth"], f["datarate"]), ("lora", "125000", "9"))
        self.assertEqual((f["invert_pol"], f["no_crc"], f["preamble"]), ("1", "1", "8"))
        self.assertEqual(f["rf_chain"], "0")
        phy = bytes.fromhex(f["payload"])
        self.assertEqual(phy[0], 0x60)  # unconfirmed data down
        self.assertEqual(phy[1:5], bytes.fromhex(ADDR)[::-1])
        self.assertTrue(phy[5] & 0x20)  # ACK
        st = self.status()
        self.assertEqual(st["lora_acks"], 1)
        self.assertEqual(st["sx130x_tx_sent"], 1)

    def test_a_join_request_is_answered_through_the_concentrator_in_rx1(self):
        nonce = 0x0203
        phy = mkframe("join", APP_KEY, JOIN_EUI, OTAA_EUI, nonce)
        d = self.start(rx(phy, freq=868100000, sf=7, count_us="+0"), devices=(OTAA_DEVICE,))
        d.wait_stderr("concentrator started", 10)
        # JOIN_ACCEPT_DELAY1 is 5 s: the answer waits in the queue until just before then.
        f = self.wait_send(10)
        [up] = self.received_count_us()
        self.assertEqual(f["tx_mode"], "timestamped")
        self.assertEqual(int(f["count_us"]), (up + 5_000_000) % 2**32)
        self.assert_just_in_time(f)
        # EU868 RX1 with RX1DROffset 0: the request's frequency and data rate.
        self.assertEqual(int(f["freq_hz"]), 868100000)
        self.assertEqual((f["modulation"], f["bandwidth"], f["datarate"], f["coderate"]),
                         ("lora", "125000", "7", "4/5"))
        self.assertEqual((f["invert_pol"], f["no_crc"], f["rf_chain"]), ("1", "1", "0"))
        # 33 bytes: with the CFList of the EU868 plan's other channels (type 0).
        self.assertEqual(f["size"], "33")
        cflist = bytes.fromhex(mkframe("cflist", APP_KEY, f["payload"]))
        self.assertEqual(cflist.hex(), "184f84e85684b85e84886684586e8400")
        # The device opens it (MIC and decryption with its AppKey, keys from its DevNonce):
        # a session under NetID 0x13, the region's defaults, RX1 a second after uplinks.
        addr, nwk, app, rx1, rx2, delay = mkframe("accept", APP_KEY, nonce,
                                                  f["payload"]).split()
        self.assertEqual(int(addr, 16) >> 25, 0x13)
        self.assertEqual((rx1, rx2, delay), ("0", "0", "1"))
        self.assertNotEqual(nwk, app)
        st = self.status()
        self.assertEqual((st["lora_join_requests"], st["lora_joins"]), (1, 1))
        self.assertEqual((st["sx130x_tx_sent"], st["sx130x_tx_failed"]), (1, 0))

    def test_start_failures_are_retried_with_backoff_while_the_daemon_answers(self):
        d = self.start("start_fail 2\n" + rx(frame(1, "016700fa")))
        d.wait_stderr("retrying in 1s (attempt 1 failed)", 10)
        t1 = time.monotonic()
        # The hint names what was found: the SPI device exists here, so the chip is suspected.
        # The hint names what it found: here the SPI device exists, so the next suspect is
        # I2C (sx1302_hal needs the board's temperature sensor), else the chip's answer.
        self.assertRegex(d.stderr(), re.escape(
            "the concentrator did not start (lgw_start failed): ") + "(" + re.escape(
            "'/dev/i2c-1' does not exist: sx1302_hal reads the board's temperature sensor over "
            "I2C") + "|" + re.escape(
            f"the concentrator does not answer on '{self.dir}/spidev0.0': check the reset line "
            "(sim:17, sources.sx130x.reset_gpio)") + ")")
        st = self.status()
        self.assertIn(st["sx130x_state"], ("waiting", "resetting"))
        self.assertEqual(st["sx130x_start_failures"], 1)
        self.assertEqual(st["sx130x_starts"], 0)
        d.wait_stderr("retrying in 2s (attempt 2 failed)", 10)
        t2 = time.monotonic()
        d.wait_stderr("concentrator started", 10)
        t3 = time.monotonic()
        # 1 s, then 2 s of back-off, each followed by the 300 ms reset sequence.
        self.assertGreaterEqual(t2 - t1, 1.0)
        self.assertGreaterEqual(t3 - t2, 2.0)
        self.assertTrue(self.sub.wait(lambda s: any("/lora/" in t for t, _ in s.readings()), 15),
                        d.stderr())
        st = self.status()
        self.assertEqual((st["sx130x_state"], st["sx130x_starts"], st["sx130x_start_failures"]),
                         ("running", 1, 2))
        starts = [line for line in self.recorded() if line.startswith("lgw_start")]
        self.assertEqual(starts, ["lgw_start result=error"] * 2 + ["lgw_start result=ok"])
        # Each attempt went through the whole reset pulse again.
        self.assertEqual(d.stderr().count("sim line 17 set to 1 (fieldgate-sx130x-reset)"), 3)

    def test_sigterm_stops_the_concentrator_and_releases_the_lines(self):
        d = self.start(rx(frame(1, "016700fa")))
        d.wait_stderr("concentrator started", 10)
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(15), 0, d.stderr())
        rec = self.recorded()
        self.assertEqual(rec[-2:], ["lgw_start result=ok", "lgw_stop was_started=1"])
        stop = self.log_index("concentrator stopped")
        self.assertGreater(self.log_index("sim line 17 released", stop), stop)
        self.assertGreater(self.log_index("sim line 18 released", stop), stop)

    def test_reload_keeps_an_unchanged_concentrator_and_restarts_a_changed_one(self):
        d = self.start(rx(frame(1, "016700fa")) + "pause 1500\n" + rx(frame(2, "016700c8")))
        d.wait_stderr("concentrator started", 10)
        # Nothing of the concentrator changed: it keeps running, no reset, frames keep coming.
        d.signal(signal.SIGHUP)
        self.notify.wait_for("RELOADING=1")
        self.notify.wait_for("READY=1")
        d.wait_stderr("concentrator settings unchanged: it keeps running")
        self.assertTrue(self.sub.wait(
            lambda s: len([t for t, _ in s.readings() if "/lora/" in t]) >= 2, 15), d.stderr())
        calls = [line.split()[0] for line in self.recorded()
                 if line.startswith(("lgw_start", "lgw_stop"))]
        self.assertEqual(calls, ["lgw_start"])
        self.assertNotIn("sim line 17 released", d.stderr())
        # Another RSSI offset: the concentrator restarts with it, cleanly.
        with open(self.conf, "w") as f:
            f.write(config(self.dir, self.broker.port, sx130x="rssi_offset = -200.0;"))
        d.signal(signal.SIGHUP)
        d.wait_stderr("sim line 17 released", 10)
        deadline = time.monotonic() + 10
        while d.stderr().count("concentrator started") < 2 and time.monotonic() < deadline:
            d.pump(0.1)
        self.assertEqual(d.stderr().count("concentrator started"), 2, d.stderr())
        calls = [line.split()[0] for line in self.recorded()
                 if line.startswith(("lgw_start", "lgw_stop"))]
        self.assertEqual(calls, ["lgw_start", "lgw_stop", "lgw_start"])
        self.assertIn("lgw_rxrf_setconf rf_chain=0 enable=1 freq_hz=867500000 rssi_offset=-200.0 "
                      "type=sx1250 tx_enable=1", self.recorded())
        # The old source let go of its lines before the new one asked for them.
        err = d.stderr()
        released = err.index("sim line 17 released")
        self.assertGreater(err.index("sim line 17 requested", released), released)
        self.assertEqual(self.status()["sx130x_starts"], 1)  # the new source's own count

    def test_without_gateway_id_the_concentrator_eui_names_the_gateway(self):
        d = self.start(rx(frame(1, "016700fa")), gateway_id=None)
        d.wait_stderr("concentrator started", 10)
        # The EUI is read after the start: it names the gateway from the next start on.
        d.wait_stderr(f"gateway.id is not set: from the next start this gateway is named "
                      f"{CHIP_EUI}, its concentrator's EUI", 15)
        self.assertNotEqual(self.status()["gateway"], CHIP_EUI)
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(5), 0, d.stderr())
        d.kill()
        sub = Subscriber(self.broker.port, topic=f"fieldgate/{CHIP_EUI}/#", client_id="eui-sub")
        try:
            d = self.start(rx(frame(2, "016700c8")), gateway_id=None)
            d.wait_stderr(f"gateway id {CHIP_EUI}: the concentrator's EUI (gateway.id is not set)")
            self.assertEqual(self.status()["gateway"], CHIP_EUI)
            self.assertTrue(sub.wait(lambda s: any(t == f"fieldgate/{CHIP_EUI}/lora/{DEV_EUI}"
                                                   for t, _ in s.readings()), 15), d.stderr())
        finally:
            sub.stop()

    def test_a_build_without_libloragw_refuses_the_concentrator(self):
        if built_with_libloragw():
            self.skipTest("src/fieldgated is built with libloragw (configure --with-loragw)")
        with open(self.conf, "w") as f:
            f.write(config(self.dir, self.broker.port))
        os.chmod(self.conf, 0o600)
        out = run([FIELDGATED, "--check-config", "-c", self.conf])
        expected = (f"{self.conf}:8: sources.sx130x.enabled: this fieldgated was built without "
                    "concentrator support (libloragw): build it with ./configure "
                    "--with-loragw=DIR, DIR a built Semtech HAL (see README, \"LoRa "
                    "concentrator\")")
        self.assertEqual(out.returncode, 1)
        self.assertIn(expected, out.stderr)
        self.assertNotIn("configuration OK", out.stdout)
        # Starting is refused the same way, before anything runs.
        d = Daemon(self.conf, notify=self.notify, dry_run=False)
        try:
            self.assertEqual(d.wait_exit(10), 1)
            self.assertIn(expected, d.stderr())
            self.assertIn(f"configuration '{self.conf}' refused", d.stderr())
        finally:
            d.kill()
        ctl = run([FIELDGATECTL, "check-config", self.conf])
        self.assertNotEqual(ctl.returncode, 0)
        self.assertIn(expected, ctl.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
