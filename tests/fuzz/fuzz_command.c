/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for command bodies, as they arrive from the broker. The
 * first byte picks the kind (down/push, down/replace, gpio); the rest is
 * the body, in a buffer of exactly its size (not NUL-terminated), so a read
 * past it is caught. Every body is parsed as each kind, so one input covers
 * all three:
 *
 * - the reason is a known one, the detail a NUL-terminated line, and an id
 *   carried by a refusal is a valid id (or "");
 * - an accepted command keeps its contract (f_port 1..223, data within
 *   FG_LW_FRM_MAX, priority, value / pulse_ms, object inside the input), and
 *   fg_command_pack / unpack give it back unchanged;
 * - its "object" goes through the Cayenne and layout encoders; what they
 *   encode, their decoders read back;
 * - the outcome JSON of any refusal is valid JSON (checked with the reader).
 * Unpack also reads the raw input as a record: it must refuse or accept,
 * never misbehave.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"
#include "codec/codec.h"
#include "util/json-read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_MS UINT64_C(1764777600000)

static struct fg_codec_value values[FG_CODEC_VALUES_MAX];

static bool valid_id(const char *id)
{
	size_t n = strnlen(id, FG_CMD_ID_MAX + 1);

	if (n > FG_CMD_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (id[i] < 0x20 || id[i] > 0x7e || id[i] == '"' || id[i] == '\\')
			return false;
	return true;
}

/* Accepted commands keep their contract. */
static void check_command(const struct fg_command *c, const uint8_t *body, size_t len)
{
	if (!valid_id(c->id) || !c->id[0])
		abort();
	if (c->priority < 0 || c->priority > FG_CMD_PRIORITY_MAX)
		abort();
	if (c->kind == FG_CMD_GPIO) {
		if ((c->pulse_ms == 0) == (c->value < 0) || c->value > 1)
			abort();
		if (!c->gpio_name[0] == !c->chip[0])
			abort();
		return;
	}
	if (c->f_port < 1 || c->f_port > 223 || c->data_len > FG_LW_FRM_MAX || !c->device[0])
		abort();
	if (c->object && ((const uint8_t *) c->object < body ||
			  (const uint8_t *) c->object + c->object_len > body + len ||
			  c->object[0] != '{' || c->object[c->object_len - 1] != '}'))
		abort();
}

/* Pack, unpack, pack again: the same record, and the same command. */
static void check_pack(const struct fg_command *c)
{
	uint8_t a[FG_COMMAND_PACK_MAX], b[FG_COMMAND_PACK_MAX];
	struct fg_command u;
	int na, nb;

	na = fg_command_pack(c, a, sizeof(a));
	if (na <= 0 || fg_command_unpack(a, (size_t) na, &u) != 0)
		abort();
	nb = fg_command_pack(&u, b, sizeof(b));
	if (nb != na || memcmp(a, b, (size_t) na) != 0)
		abort();
	if (u.kind != c->kind || strcmp(u.id, c->id) != 0 || u.priority != c->priority ||
	    u.expires_ms != c->expires_ms || u.confirmed != c->confirmed || u.object)
		abort();
	if (c->kind == FG_CMD_GPIO) {
		if (strcmp(u.chip, c->chip) || u.line != c->line || u.value != c->value ||
		    u.pulse_ms != c->pulse_ms || strcmp(u.gpio_name, c->gpio_name))
			abort();
	} else if (strcmp(u.device, c->device) || u.f_port != c->f_port ||
		   u.data_len != c->data_len || memcmp(u.data, c->data, c->data_len)) {
		abort();
	}
	if (fg_command_pack(c, a, (size_t) na - 1) != -ENOBUFS)
		abort();
}

/* What an encoder accepts, its decoder reads. */
static void check_encoders(const struct fg_command *c)
{
	static const struct fg_layout_field fields[] = {
		{ .name = "temperature",
		  .unit = "Cel",
		  .offset = 0,
		  .type = FG_LAYOUT_I16,
		  .scale = 0.01,
		  .fport = -1 },
		{ .name = "mode",
		  .offset = 2,
		  .type = FG_LAYOUT_U8,
		  .bit_count = 3,
		  .scale = 1,
		  .fport = -1 },
		{ .name = "on",
		  .offset = 2,
		  .type = FG_LAYOUT_U8,
		  .bit_offset = 7,
		  .bit_count = 1,
		  .boolean = true,
		  .scale = 1,
		  .fport = 2 },
		{ .name = "level",
		  .offset = 3,
		  .type = FG_LAYOUT_F32,
		  .little_endian = true,
		  .scale = 2,
		  .add = -1,
		  .fport = 2 },
	};
	const struct fg_layout l = { fields, sizeof(fields) / sizeof(fields[0]) };
	uint8_t out[FG_LW_FRM_MAX];
	size_t n = 0, k = 0;
	char why[96];
	int r;

	if (!c->object)
		return;
	why[0] = '\0';
	r = fg_cayenne_encode(c->object, c->object_len, out, sizeof(out), &n, why, sizeof(why));
	if (r == 0) {
		if (n > sizeof(out) ||
		    fg_cayenne_decode(out, n, values, FG_CODEC_VALUES_MAX, &k, NULL, 0) != 0)
			abort();
	} else if ((r != -EBADMSG && r != -EMSGSIZE) || !why[0]) {
		abort();
	}
	why[0] = '\0';
	r = fg_layout_encode(&l, c->f_port, c->object, c->object_len, out, sizeof(out), &n, why,
			     sizeof(why));
	if (r == 0) {
		if (fg_layout_decode(&l, c->f_port, out, n, values, FG_CODEC_VALUES_MAX, &k, NULL,
				     0) != 0)
			abort();
	} else if ((r != -EBADMSG && r != -EMSGSIZE) || !why[0]) {
		abort();
	}
}

static void check_event(const char *id, enum fg_cmd_reason reason, const char *detail)
{
	struct fg_cmd_event e = {
		.id = id, .outcome = FG_CMD_FAILED, .reason = reason, .detail = detail
	};
	char buf[512];
	struct fg_jr jr;
	int n = fg_cmd_event_json(&e, 1, buf, sizeof(buf));

	if (n <= 0)
		abort();
	fg_jr_init(&jr, buf, (size_t) n);
	if (fg_jr_skip(&jr, NULL, NULL) != 0 || fg_jr_end(&jr) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_command c, u;
	char detail[160];

	if (size < 1)
		return 0;
	/* Exactly the body's bytes, so ASan sees any read past them. */
	uint8_t *body = malloc(size - 1 ? size - 1 : 1);

	if (!body)
		return 0;
	memcpy(body, data + 1, size - 1);
	for (int i = 0; i < FG_CMD_KIND__COUNT; i++) {
		enum fg_cmd_kind kind = (enum fg_cmd_kind)((data[0] + i) % FG_CMD_KIND__COUNT);
		enum fg_cmd_reason r;

		memset(detail, 0x55, sizeof(detail));
		r = fg_command_parse(kind, body, size - 1, NOW_MS, &c, detail, sizeof(detail));
		if ((unsigned) r >= FG_CMD_REASON__COUNT || !memchr(detail, '\0', sizeof(detail)))
			abort();
		if (r != FG_CMD_R_NONE) {
			if (!detail[0] || !valid_id(c.id))
				abort();
			check_event(c.id, r, detail);
			continue;
		}
		if (detail[0] || c.kind != kind)
			abort();
		check_command(&c, body, size - 1);
		check_pack(&c);
		check_encoders(&c);
	}
	(void) fg_command_unpack(data, size, &u);
	free(body);
	return 0;
}
