/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The MAC commands an end device sends in LoRaWAN 1.0.x (1.0.2 to 1.0.4,
 * section 5), described in words for the logs: CID, payload length and what
 * the answer bits say.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

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
