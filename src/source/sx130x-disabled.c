/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SX130x source in a build without libloragw (configure without
 * --with-loragw): nothing can start. fg_sx130x_check_config() refuses a
 * configuration that enables sources.sx130x, saying how to build with it,
 * so fg_sx130x_new() is never reached with one; it fails cleanly all the same.
 */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "source/sx130x.h"

enum fg_sx130x_hal fg_sx130x_hal(void)
{
	return FG_SX130X_HAL_NONE;
}

int fg_sx130x_new(const struct fg_config *cfg, sd_event *loop, const struct fg_gpio_ops *gpio,
		  const struct fg_sx130x_handlers *h, void *userdata, struct fg_sx130x **ret)
{
	(void) cfg, (void) loop, (void) gpio, (void) h, (void) userdata, (void) ret;
	fg_log_error("sx130x", "built without libloragw: no concentrator support (configure "
			       "--with-loragw=DIR, see README)");
	return -EOPNOTSUPP;
}

void fg_sx130x_free(struct fg_sx130x *s)
{
	(void) s;
}

int fg_sx130x_send(struct fg_sx130x *s, const struct fg_lw_txpk *tx)
{
	(void) s, (void) tx;
	return -EOPNOTSUPP;
}

int fg_sx130x_counter(struct fg_sx130x *s, uint32_t *ret_us)
{
	(void) s, (void) ret_us;
	return -EOPNOTSUPP;
}

int fg_sx130x_eui(const struct fg_sx130x *s, uint64_t *ret)
{
	(void) s, (void) ret;
	return -ENODATA;
}

void fg_sx130x_get_stats(const struct fg_sx130x *s, struct fg_sx130x_stats *ret)
{
	(void) s;
	memset(ret, 0, sizeof(*ret));
	ret->state = FG_SX130X_STOPPED;
}
