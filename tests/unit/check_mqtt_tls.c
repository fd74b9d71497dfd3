/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fg_mqtt_check_tls: the TLS files the sink could not use are refused, named
 * by file, line and setting, as both check-config commands and the daemon's
 * start report them. Certificates and keys are made by the openssl command
 * in a temporary directory, once for the suite.
 */
#include <check.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "sink/mqtt.h"
#include "check-main.h"

static char dir[256];
static struct fg_diags diags;
static struct fg_config *cfg;
static char text[4096];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run a shell command in the temporary directory; it must succeed. */
static void sh(const char *fmt, ...)
{
	char cmd[2048];
	int n = snprintf(cmd, sizeof(cmd), "cd '%s' && ( ", dir);
	va_list ap;

	va_start(ap, fmt);
	n += vsnprintf(cmd + n, sizeof(cmd) - (size_t) n, fmt, ap);
	va_end(ap);
	snprintf(cmd + n, sizeof(cmd) - (size_t) n, " ) >openssl.log 2>&1 </dev/null");
	ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

/* A CA, a client certificate and key it signed, a second key, an encrypted key, junk. */
static void make_files(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/fieldgate-tls-XXXXXX", tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key "
	   "-out ca.crt -days 30 -subj '/CN=fieldgate test ca'");
	sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key "
	   "-out client.csr -subj '/CN=fieldgate-test'");
	sh("openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
	   "-out client.crt -days 30");
	sh("openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out other.key");
	sh("openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:1024 -out rsa.key");
	sh("openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -aes256 "
	   "-pass pass:secret -out encrypted.key");
	sh("echo 'not a certificate' >junk.pem && mkdir cadir");
	/* Others may enter the directory and read the certificate, not this copy of the key. */
	sh("chmod 755 . && chmod 644 client.crt && cp client.key private.key && "
	   "chmod 600 private.key");
}

static void remove_files(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void) system(cmd);
}

static void setup(void)
{
	diags = (struct fg_diags){ 0 };
	cfg = NULL;
}

static void teardown(void)
{
	fg_diags_clear(&diags);
	fg_config_free(cfg);
}

/* Load "mqtt = {\n tls = true;\n <line 3>\n};" and check its TLS files; the check's result. */
static int check(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int check(const char *fmt, ...)
{
	char line[3000];
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	snprintf(text, sizeof(text), "mqtt = {\n\ttls = true;\n\t%s\n};\n", line);
	ck_assert_msg(fg_config_load_string(text, "fieldgate.conf", &cfg, &diags) == 0,
		      "config refused: %s", diags.n ? diags.v[0].message : "?");
	ck_assert_uint_eq(diags.n, 0);
	return fg_mqtt_check_tls(cfg, NULL, &diags);
}

/* The only finding is this error, formatted as the commands print it. */
static void assert_only_error(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void assert_only_error(int r, const char *fmt, ...)
{
	char want[3000];
	char *got;
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_uint_eq(diags.n, 1);
	ck_assert_int_eq(diags.v[0].severity, FG_DIAG_ERROR);
	got = fg_diag_format(&diags.v[0]);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(tls_check_accepts_usable_files)
{
	ck_assert_int_eq(check("ca_file = \"%s/ca.crt\"; ca_path = \"%s/cadir\"; cert_file = "
			       "\"%s/client.crt\"; key_file = \"%s/client.key\";",
			       dir, dir, dir, dir),
			 0);
	ck_assert_uint_eq(diags.n, 0);
}
END_TEST

START_TEST(tls_check_accepts_the_system_store_with_a_client_certificate)
{
	ck_assert_int_eq(
		check("cert_file = \"%s/client.crt\"; key_file = \"%s/client.key\";", dir, dir), 0);
	ck_assert_uint_eq(diags.n, 0);
}
END_TEST

START_TEST(tls_check_rejects_missing_ca_file)
{
	assert_only_error(check("ca_file = \"%s/nope.pem\";", dir),
			  "fieldgate.conf:3: mqtt.ca_file: cannot read '%s/nope.pem': No such file "
			  "or directory",
			  dir);
}
END_TEST

START_TEST(tls_check_rejects_ca_file_without_a_certificate)
{
	assert_only_error(check("ca_file = \"%s/junk.pem\";", dir),
			  "fieldgate.conf:3: mqtt.ca_file: '%s/junk.pem' holds no PEM certificate "
			  "(no certificate or crl found); expected the CA certificates that signed "
			  "the broker's",
			  dir);
}
END_TEST

START_TEST(tls_check_rejects_a_directory_as_ca_file)
{
	assert_only_error(check("ca_file = \"%s/cadir\";", dir),
			  "fieldgate.conf:3: mqtt.ca_file: '%s/cadir' is not a regular file", dir);
}
END_TEST

START_TEST(tls_check_rejects_missing_ca_path)
{
	assert_only_error(
		check("ca_path = \"%s/nodir\";", dir),
		"fieldgate.conf:3: mqtt.ca_path: cannot open directory '%s/nodir': No such "
		"file or directory",
		dir);
}
END_TEST

START_TEST(tls_check_rejects_a_key_as_cert_file)
{
	assert_only_error(
		check("cert_file = \"%s/client.key\"; key_file = \"%s/client.key\";", dir, dir),
		"fieldgate.conf:3: mqtt.cert_file: '%s/client.key' is not a PEM "
		"certificate (no start line); expected the client certificate, then any "
		"intermediate CA certificates",
		dir);
}
END_TEST

START_TEST(tls_check_rejects_missing_key_file)
{
	assert_only_error(
		check("cert_file = \"%s/client.crt\"; key_file = \"%s/nope.key\";", dir, dir),
		"fieldgate.conf:3: mqtt.key_file: cannot read '%s/nope.key': No such file "
		"or directory",
		dir);
}
END_TEST

START_TEST(tls_check_rejects_a_certificate_as_key_file)
{
	assert_only_error(
		check("cert_file = \"%s/client.crt\"; key_file = \"%s/ca.crt\";", dir, dir),
		"fieldgate.conf:3: mqtt.key_file: '%s/ca.crt' is not a PEM private key", dir);
}
END_TEST

START_TEST(tls_check_rejects_an_encrypted_key_without_asking)
{
	assert_only_error(
		check("cert_file = \"%s/client.crt\"; key_file = \"%s/encrypted.key\";", dir, dir),
		"fieldgate.conf:3: mqtt.key_file: '%s/encrypted.key' is an encrypted "
		"private key; fieldgated has no passphrase for it, expected an unencrypted "
		"PEM key",
		dir);
}
END_TEST

START_TEST(tls_check_rejects_the_key_of_another_certificate)
{
	assert_only_error(
		check("cert_file = \"%s/client.crt\"; key_file = \"%s/other.key\";", dir, dir),
		"fieldgate.conf:3: mqtt.key_file: '%s/other.key' is not the private key of "
		"the certificate in mqtt.cert_file '%s/client.crt'",
		dir, dir);
}
END_TEST

START_TEST(tls_check_rejects_a_key_of_another_type)
{
	assert_only_error(
		check("cert_file = \"%s/client.crt\"; key_file = \"%s/rsa.key\";", dir, dir),
		"fieldgate.conf:3: mqtt.key_file: '%s/rsa.key' is not the private key of "
		"the certificate in mqtt.cert_file '%s/client.crt'",
		dir, dir);
}
END_TEST

START_TEST(tls_check_reports_every_problem_on_its_line)
{
	char *a, *b;

	snprintf(text, sizeof(text),
		 "mqtt = {\n\tca_file = \"%s/nope.pem\";\n\n\tcert_file = \"%s/client.crt\";\n"
		 "\tkey_file = \"%s/other.key\";\n};\n",
		 dir, dir, dir);
	ck_assert_int_eq(fg_config_load_string(text, "gw.conf", &cfg, &diags), 0);
	ck_assert_int_eq(fg_mqtt_check_tls(cfg, NULL, &diags), -EINVAL);
	ck_assert_uint_eq(diags.n, 2);
	a = fg_diag_format(&diags.v[0]);
	b = fg_diag_format(&diags.v[1]);
	ck_assert_pstr_eq(strstr(a, "gw.conf:2: mqtt.ca_file: cannot read"), a);
	ck_assert_pstr_eq(strstr(b, "gw.conf:5: mqtt.key_file: "), b);
	free(a);
	free(b);
}
END_TEST

/* Run as root for a daemon running as another user ("nobody" here, _fieldgate in the field). */
START_TEST(tls_check_as_root_warns_about_files_the_daemons_user_cannot_read)
{
	char want[600];
	char *got;

	snprintf(text, sizeof(text),
		 "mqtt = {\n\ttls = true;\n\tcert_file = \"%s/client.crt\";\n"
		 "\tkey_file = \"%s/private.key\";\n};\n",
		 dir, dir);
	ck_assert_int_eq(fg_config_load_string(text, "fieldgate.conf", &cfg, &diags), 0);
	ck_assert_int_eq(fg_mqtt_check_tls(cfg, "nobody", &diags), 0);
	if (geteuid() != 0 || !getpwnam("nobody")) {
		/* Not root: the check reads the files as this user, which is the daemon's own case.
		 */
		ck_assert_uint_eq(diags.n, 0);
		return;
	}
	ck_assert_uint_eq(diags.n, 1);
	ck_assert_int_eq(diags.v[0].severity, FG_DIAG_WARNING);
	got = fg_diag_format(&diags.v[0]);
	snprintf(want, sizeof(want),
		 "fieldgate.conf:4: warning: mqtt.key_file: user 'nobody', as "
		 "whom fieldgated runs, cannot read '%s/private.key'; the daemon would refuse it "
		 "at start",
		 dir);
	ck_assert_str_eq(got, want);
	free(got);
}
END_TEST

START_TEST(tls_check_checks_nothing_without_tls)
{
	ck_assert_int_eq(fg_config_load_string("mqtt = { host = \"127.0.0.1\"; };\n",
					       "fieldgate.conf", &cfg, &diags),
			 0);
	ck_assert(!cfg->mqtt.tls);
	ck_assert_int_eq(fg_mqtt_check_tls(cfg, NULL, &diags), 0);
	ck_assert_uint_eq(diags.n, 0);
}
END_TEST

static Suite *mqtt_tls_suite(void)
{
	Suite *s = suite_create("mqtt_tls");
	TCase *tc = tcase_create("check");

	tcase_add_unchecked_fixture(tc, make_files, remove_files);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tls_check_accepts_usable_files);
	tcase_add_test(tc, tls_check_accepts_the_system_store_with_a_client_certificate);
	tcase_add_test(tc, tls_check_rejects_missing_ca_file);
	tcase_add_test(tc, tls_check_rejects_ca_file_without_a_certificate);
	tcase_add_test(tc, tls_check_rejects_a_directory_as_ca_file);
	tcase_add_test(tc, tls_check_rejects_missing_ca_path);
	tcase_add_test(tc, tls_check_rejects_a_key_as_cert_file);
	tcase_add_test(tc, tls_check_rejects_missing_key_file);
	tcase_add_test(tc, tls_check_rejects_a_certificate_as_key_file);
	tcase_add_test(tc, tls_check_rejects_an_encrypted_key_without_asking);
	tcase_add_test(tc, tls_check_rejects_the_key_of_another_certificate);
	tcase_add_test(tc, tls_check_rejects_a_key_of_another_type);
	tcase_add_test(tc, tls_check_reports_every_problem_on_its_line);
	tcase_add_test(tc, tls_check_as_root_warns_about_files_the_daemons_user_cannot_read);
	tcase_add_test(tc, tls_check_checks_nothing_without_tls);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fg_check_main(mqtt_tls_suite());
}
