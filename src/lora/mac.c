/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The MAC commands an end device sends in LoRaWAN 1.0.x (1.0.2 to 1.0.4,
 * section 5), described in words for the logs: CID, payload length and what
 * the answer bits say; and the answers the network owes to the two requests
 * a device can make (LinkCheckReq, DeviceTimeReq).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "lora/downlink.h"
#include "lora/lorawan.h"

/* A bounded, always NUL-terminated text being appended to. */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append to o; what does not fit is cut off, the NUL kept. */
static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len + 1 >= o->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->len += (size_t) n;
	if (o->len >= o->size)
		o->len = o->size - 1;
}

static const char *ack(uint8_t status, unsigned bit)
{
	return status & (1u << bit) ? "ack" : "nack";
}

/* The uplink commands of 1.0.x and the length of their payloads (CID excluded). */
static const struct {
	const char *name;
	uint8_t len;
} commands[] = {
	[0x02] = { .name = "LinkCheckReq", .len = 0 },
	[0x03] = { .name = "LinkADRAns", .len = 1 },
	[0x04] = { .name = "DutyCycleAns", .len = 0 },
	[0x05] = { .name = "RXParamSetupAns", .len = 1 },
	[0x06] = { .name = "DevStatusAns", .len = 2 },
	[0x07] = { .name = "NewChannelAns", .len = 1 },
	[0x08] = { .name = "RXTimingSetupAns", .len = 0 },
	[0x09] = { .name = "TxParamSetupAns", .len = 0 },
	[0x0a] = { .name = "DlChannelAns", .len = 1 },
	[0x0d] = { .name = "DeviceTimeReq", .len = 0 },
};

/* The words after a command's name, from its payload p (of the command's length). */
static void describe_payload(struct out *o, uint8_t cid, const uint8_t *p)
{
	switch (cid) {
	case 0x03: /* Status: Power ACK, Data rate ACK, Channel mask ACK */
		out_printf(o, " power=%s dr=%s chmask=%s", ack(p[0], 2), ack(p[0], 1),
			   ack(p[0], 0));
		break;
	case 0x05: /* Status: RX1DRoffset ACK, RX2 Data rate ACK, Channel ACK */
		out_printf(o, " rx1-dr-offset=%s rx2-dr=%s channel=%s", ack(p[0], 2), ack(p[0], 1),
			   ack(p[0], 0));
		break;
	case 0x06: {
		/* Battery: 0 external power, 1..254 level, 255 unknown; Margin: 6-bit signed dB. */
		int margin = p[1] & 0x3f;

		if (margin & 0x20)
			margin -= 64;
		if (p[0] == 0)
			out_printf(o, " battery=external");
		else if (p[0] == 255)
			out_printf(o, " battery=unknown");
		else
			out_printf(o, " battery=%u", (unsigned) p[0]);
		out_printf(o, " margin=%d", margin);
		break;
	}
	case 0x07: /* Status: Data rate range ok, Channel frequency ok */
		out_printf(o, " dr-range=%s freq=%s", ack(p[0], 1), ack(p[0], 0));
		break;
	case 0x0a: /* Status: Uplink frequency exists, Channel frequency ok */
		out_printf(o, " uplink-freq=%s freq=%s", ack(p[0], 1), ack(p[0], 0));
		break;
	default:
		break;
	}
}

int fg_lw_mac_describe(const uint8_t *cmds, size_t len, char *buf, size_t size)
{
	struct out o = { .buf = buf, .size = size };
	size_t pos = 0;
	int n = 0;

	if (size > 0)
		buf[0] = '\0';
	while (pos < len) {
		uint8_t cid = cmds[pos];

		if (cid >= sizeof(commands) / sizeof(commands[0]) || !commands[cid].name)
			return -EBADMSG;
		if (len - pos - 1 < commands[cid].len)
			return -EBADMSG;
		out_printf(&o, "%s%s", n > 0 ? "; " : "", commands[cid].name);
		describe_payload(&o, cid, cmds + pos + 1);
		pos += 1 + (size_t) commands[cid].len;
		n++;
	}
	return n;
}

/*
 * The SNR, in dB, a LoRa receiver needs to demodulate spreading factor sf:
 * Semtech's SX1276 datasheet (section 4.1.1.2, "Spreading Factor" table) and
 * the SX1261/2 and SX1302 datasheets give -7.5 dB at SF7 and 2.5 dB less per
 * step up to -20 dB at SF12 (-5 at SF6, -2.5 at SF5), whatever the bandwidth,
 * since the SNR is measured in the channel's own bandwidth. This is "the
 * demodulation floor" a LinkCheckAns margin counts from.
 */
static double demodulation_floor_db(unsigned sf)
{
	return -7.5 - 2.5 * ((double) sf - 7);
}

/*
 * The Margin of a LinkCheckAns (LoRaWAN 1.0.2 and 1.0.3 section 5.1, 1.0.4
 * section 5.2): "the link margin in dB of the last successfully received
 * LinkCheckReq command", 0 at the demodulation floor, 0..254 (255 is RFU).
 * Whole dB, rounded down: a device never learns more margin than it had.
 * FSK (EU868/AS923 DR7) has no such floor and the concentrators report no
 * SNR for it: 0.
 */
static uint8_t link_margin(const struct fg_lw_mac_ctx *ctx)
{
	struct fg_lw_dr rate;
	double m;

	if (fg_lw_region_dr_params(ctx->region, ctx->dr, false, &rate) < 0 || rate.fsk ||
	    isnan(ctx->snr))
		return 0;
	m = floor((double) ctx->snr - demodulation_floor_db(rate.sf));
	if (m < 0)
		return 0;
	return m > 254 ? 254 : (uint8_t) m;
}

/*
 * The DeviceTimeAns payload (LoRaWAN 1.0.3 section 5.9, 1.0.4 section 5.10):
 * the GPS time at the end of the uplink that carried the DeviceTimeReq, as a
 * 32-bit count of seconds since the GPS epoch (1980-01-06T00:00:00Z) and a
 * fraction in 1/256 s, little-endian like every MAC field. GPS time has no
 * leap seconds: it is UTC + 18 s since 2017-01-01 (and as long as the IERS
 * announces none). The 32-bit seconds wrap in 2116, as the field does.
 * Returns false for a time before the GPS epoch (a clock not yet set).
 */
static bool device_time(uint64_t unix_ms, uint8_t out[5])
{
	uint64_t gps_ms, s;
	unsigned frac;

	if (unix_ms < FG_LW_GPS_EPOCH_UNIX_MS)
		return false;
	gps_ms = unix_ms - FG_LW_GPS_EPOCH_UNIX_MS + FG_LW_GPS_LEAP_SECONDS * 1000ull;
	s = gps_ms / 1000;
	frac = (unsigned) (gps_ms % 1000) * 256 / 1000;
	for (int i = 0; i < 4; i++)
		out[i] = (uint8_t) (s >> (8 * i));
	out[4] = (uint8_t) frac;
	return true;
}

int fg_lw_mac_answers(const uint8_t *cmds, size_t len, const struct fg_lw_mac_ctx *ctx,
		      uint8_t *out, size_t size, struct fg_lw_mac_seen *seen)
{
	struct fg_lw_mac_seen sn = { .link_adr_ans = -1 };
	bool link_check = false, device_time_done = false, full = false;
	size_t pos = 0, n = 0;

	if (!ctx || (len > 0 && !cmds) || (size > 0 && !out))
		return -EINVAL;
	while (pos < len) {
		uint8_t cid = cmds[pos];

		if (cid >= sizeof(commands) / sizeof(commands[0]) || !commands[cid].name ||
		    len - pos - 1 < commands[cid].len) {
			/* Its length unknown, nothing after it can be found: stop. */
			sn.unknown++;
			break;
		}
		switch (cid) {
		case 0x02: /* LinkCheckReq: LinkCheckAns = Margin | GwCnt */
			sn.link_check_req = true;
			if (link_check)
				break; /* asked twice in one frame: one answer says it all */
			link_check = true;
			if (size - n < 3) {
				full = true;
				break;
			}
			out[n++] = 0x02;
			out[n++] = link_margin(ctx);
			out[n++] = 1; /* this gateway is the only one */
			break;
		case 0x0d: /* DeviceTimeReq: DeviceTimeAns = seconds (4) | fraction (1) */
			sn.device_time_req = true;
			if (device_time_done || !ctx->time_known)
				break; /* a wrong time is worse than none: the device asks again */
			device_time_done = true;
			if (size - n < 6) {
				full = true;
				break;
			}
			if (!device_time(ctx->uplink_unix_ms, out + n + 1))
				break;
			out[n] = 0x0d;
			n += 6;
			break;
		case 0x03: /* LinkADRAns: Status */
			sn.link_adr_ans = cmds[pos + 1];
			break;
		default:
			break; /* answers to requests we never send: nothing owed */
		}
		pos += 1 + (size_t) commands[cid].len;
	}
	if (seen)
		*seen = sn;
	return full ? -ENOBUFS : (int) n;
}
