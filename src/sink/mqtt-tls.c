/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The check of the MQTT sink's TLS files (sink/mqtt.h), shared by
 * fieldgated (start, reload, --check-config) and fieldgatectl check-config.
 * Each file is loaded as libmosquitto 2.0 loads it when it connects with
 * OpenSSL 3 (SSL_CTX_load_verify_file, SSL_CTX_load_verify_dir,
 * SSL_CTX_use_certificate_chain_file, SSL_CTX_use_PrivateKey_file,
 * SSL_CTX_check_private_key), so that what passes here does not fail there.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sink/mqtt.h"

struct check {
	const struct fg_config *cfg;
	struct fg_diags *diags;
	size_t errors;
	bool oom;
};

static void finding(struct check *c, enum fg_diag_severity sev, int line, const char *setting,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Add a finding about a setting of the file. */
static void finding(struct check *c, enum fg_diag_severity sev, int line, const char *setting,
		    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fg_diags_add(c->diags, sev, c->cfg->path ? c->cfg->path : "(configuration)", line,
			 setting, "%s", msg) < 0)
		c->oom = true;
	if (sev == FG_DIAG_ERROR)
		c->errors++;
}

/* OpenSSL's first reason for a failure ("no start line", ...); empties its error queue. */
static const char *ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_error();
	const char *s = e ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, len, "%s", s ? s : "unknown error");
	ERR_clear_error();
	return buf;
}

/* The file opens for reading (as whoever runs the check) and is a regular file. */
static bool readable_file(struct check *c, int line, const char *setting, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	bool ok;

	if (fd < 0) {
		finding(c, FG_DIAG_ERROR, line, setting, "cannot read '%s': %s", path,
			strerror(errno));
		return false;
	}
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	(void) close(fd);
	if (!ok)
		finding(c, FG_DIAG_ERROR, line, setting, "'%s' is not a regular file", path);
	return ok;
}

/* An encrypted key: say so rather than let OpenSSL ask for a passphrase on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
	bool *asked = userdata;

	(void) buf;
	(void) size;
	(void) rwflag;
	*asked = true;
	return -1;
}

/* Load key_file into ctx; true when it is a usable PEM private key. */
static bool load_key(struct check *c, SSL_CTX *ctx, bool report)
{
	const struct fg_mqtt_config *m = &c->cfg->mqtt;
	bool asked = false, ok;

	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	SSL_CTX_set_default_passwd_cb_userdata(ctx, &asked);
	ok = SSL_CTX_use_PrivateKey_file(ctx, m->key_file, SSL_FILETYPE_PEM) == 1;
	ERR_clear_error();
	if (ok || !report)
		return ok;
	if (asked)
		finding(c, FG_DIAG_ERROR, m->key_file_line, "mqtt.key_file",
			"'%s' is an encrypted private key; fieldgated has no passphrase for it, "
			"expected an unencrypted PEM key",
			m->key_file);
	else
		/* OpenSSL 3's decoders only say "unsupported": no reason is better than that. */
		finding(c, FG_DIAG_ERROR, m->key_file_line, "mqtt.key_file",
			"'%s' is not a PEM private key", m->key_file);
	return false;
}

#define AS_USER_GROUPS_MAX 64

/*
 * Run as root for a daemon that runs as user: can that user open the files?
 * A child process takes the user's identity (its groups resolved before the
 * fork) and tries each; a warning for each it cannot open. The daemon's
 * sandbox (ProtectHome= etc.) is not modelled.
 */
static void check_as_user(struct check *c, const char *user)
{
	const struct fg_mqtt_config *m = &c->cfg->mqtt;
	const struct {
		const char *path;
		int line;
		const char *setting;
		int flags;
	} f[] = {
		{ m->ca_file, m->ca_file_line, "mqtt.ca_file", 0 },
		{ m->ca_path, m->ca_path_line, "mqtt.ca_path", O_DIRECTORY },
		{ m->cert_file, m->cert_file_line, "mqtt.cert_file", 0 },
		{ m->key_file, m->key_file_line, "mqtt.key_file", 0 },
	};
	gid_t groups[AS_USER_GROUPS_MAX];
	int ngroups = AS_USER_GROUPS_MAX, status;
	const struct passwd *pw;
	uid_t uid;
	gid_t gid;
	pid_t pid;

	if (!user || geteuid() != 0)
		return;
	pw = getpwnam(user);
	if (!pw || pw->pw_uid == 0)
		return;
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (getgrouplist(user, gid, groups, &ngroups) < 0) {
		groups[0] = gid;
		ngroups = 1;
	}
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		int bits = 0;

		if (setgroups((size_t) ngroups, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			_exit(255);
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			int fd;

			if (!f[i].path)
				continue;
			fd = open(f[i].path,
				  O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | f[i].flags);
			if (fd < 0)
				bits |= 1 << i;
			else
				(void) close(fd);
		}
		_exit(bits);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return;
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 255)
		return;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (WEXITSTATUS(status) & (1 << i))
			finding(c, FG_DIAG_WARNING, f[i].line, f[i].setting,
				"user '%s', as whom fieldgated runs, cannot read '%s'; the daemon "
				"would refuse it at start",
				user, f[i].path);
}

int fg_mqtt_check_tls(const struct fg_config *cfg, const char *as_user, struct fg_diags *diags)
{
	const struct fg_mqtt_config *m = &cfg->mqtt;
	struct check c = { .cfg = cfg, .diags = diags };
	SSL_CTX *ctx = NULL, *key_ctx = NULL;
	bool cert_ok = false, key_ok = false;
	char why[256];

	if (!m->tls)
		return 0;
	ctx = SSL_CTX_new(TLS_client_method());
	key_ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || !key_ctx) {
		c.oom = true;
		goto out;
	}
	if (m->ca_file && readable_file(&c, m->ca_file_line, "mqtt.ca_file", m->ca_file) &&
	    SSL_CTX_load_verify_file(ctx, m->ca_file) != 1)
		finding(&c, FG_DIAG_ERROR, m->ca_file_line, "mqtt.ca_file",
			"'%s' holds no PEM certificate (%s); expected the CA certificates that "
			"signed the broker's",
			m->ca_file, ssl_reason(why, sizeof(why)));
	if (m->ca_path) {
		DIR *dir = opendir(m->ca_path);

		if (dir)
			(void) closedir(dir);
		else
			finding(&c, FG_DIAG_ERROR, m->ca_path_line, "mqtt.ca_path",
				"cannot open directory '%s': %s", m->ca_path, strerror(errno));
	}
	if (m->cert_file && readable_file(&c, m->cert_file_line, "mqtt.cert_file", m->cert_file)) {
		cert_ok = SSL_CTX_use_certificate_chain_file(ctx, m->cert_file) == 1;
		if (!cert_ok)
			finding(&c, FG_DIAG_ERROR, m->cert_file_line, "mqtt.cert_file",
				"'%s' is not a PEM certificate (%s); expected the client "
				"certificate, then any intermediate CA certificates",
				m->cert_file, ssl_reason(why, sizeof(why)));
	}
	/* The key alone first (is it a key?), then next to the certificate (is it its key?). */
	if (m->key_file && readable_file(&c, m->key_file_line, "mqtt.key_file", m->key_file))
		key_ok = load_key(&c, key_ctx, true);
	if (cert_ok && key_ok &&
	    (!load_key(&c, ctx, false) || SSL_CTX_check_private_key(ctx) != 1)) {
		ERR_clear_error();
		finding(&c, FG_DIAG_ERROR, m->key_file_line, "mqtt.key_file",
			"'%s' is not the private key of the certificate in mqtt.cert_file '%s'",
			m->key_file, m->cert_file);
	}
	if (c.errors == 0)
		check_as_user(&c, as_user);
out:
	SSL_CTX_free(ctx);
	SSL_CTX_free(key_ctx);
	ERR_clear_error();
	if (c.oom)
		return -ENOMEM;
	return c.errors > 0 ? -EINVAL : 0;
}
