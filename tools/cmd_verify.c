/* SPDX-License-Identifier: MIT */
/*
 * realmkit verify TOKEN [--cpak KEY.pem] [--rim HEX] [--challenge HEX] [--json]
 *
 * Decode and verify a CCA attestation token (tag 907, tag 399 or the legacy
 * CCA-SSD form) and print its claims. Exit status: 0 valid, 1 refused (or
 * unreadable), 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "args.h"
#include "cli.h"
#include "realmkit/attest.h"

#define PROG "realmkit verify"

static void usage(FILE *f)
{
	fprintf(f, "usage: realmkit verify TOKEN [--cpak KEY.pem] [--rim HEX] [--challenge HEX] [--json]\n"
		   "\n"
		   "Verify a CCA attestation token (CBOR tag 907 = RMM 2.0, tag 399 = RMM 1.0 or\n"
		   "legacy CCA-SSD): both COSE_Sign1 structures, the realm signature with the RAK\n"
		   "in the token, the platform signature with the CPAK (if given), the binding\n"
		   "(platform challenge = hash of the RAK), profiles, claim types and sizes.\n"
		   "\n"
		   "  -k, --cpak KEY.pem     CPAK (PEM public or private key) to check the\n"
		   "                         platform signature; without it: \"not checked\".\n"
		   "                         `realmkit run --cpak-out FILE` writes the one a run used\n"
		   "  -r, --rim HEX          expected RIM (32, 48 or 64 bytes)\n"
		   "  -c, --challenge HEX    expected realm challenge (64 bytes)\n"
		   "  -j, --json             print the result as JSON\n"
		   "  -h, --help             this help\n"
		   "\n"
		   "Exit status: 0 valid, 1 refused (reason on stderr) or unreadable token,\n"
		   "2 usage error (bad option, bad hex, unusable CPAK file).\n");
}

static char *to_hex(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(2 * n + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

static int read_token(const char *path, uint8_t **out, size_t *len)
{
	/* One byte more than the largest accepted token, so "too large" is detected. */
	size_t cap = RK_ATTEST_TOKEN_MAX_SIZE + 1, n;
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;
	int err;

	if (!f)
		return -errno;
	if (!fstat(fileno(f), &st) && S_ISDIR(st.st_mode)) {
		fclose(f);
		return -EISDIR;
	}
	buf = malloc(cap);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, cap, f);
	err = ferror(f);
	fclose(f);
	if (err) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	*len = n;
	return 0;
}

static const char *lifecycle_name(uint16_t v)
{
	switch (v >> 8) {
	case 0x00:
		return "unknown";
	case 0x10:
		return "assembly and test";
	case 0x20:
		return "CCA platform RoT provisioning";
	case 0x30:
		return "secured";
	case 0x40:
		return "non-CCA platform debug";
	case 0x50:
		return "recoverable CCA platform debug";
	case 0x60:
		return "decommissioned";
	}
	return "invalid";
}

static const char *format_name(enum rk_token_format f)
{
	switch (f) {
	case RK_TOKEN_FORMAT_2_0:
		return "2.0";
	case RK_TOKEN_FORMAT_1_0:
		return "1.0";
	case RK_TOKEN_FORMAT_CCA_SSD:
		return "cca-ssd";
	case RK_TOKEN_FORMAT_NONE:
		break;
	}
	return "none";
}

static const char *alg_name(int alg)
{
	switch (alg) {
	case -7:
		return "ES256";
	case -35:
		return "ES384";
	case -36:
		return "ES512";
	}
	return "?";
}

/* ---- human-readable output ---- */

/* Print a token string with anything unusual escaped. */
static void put_text(const char *s)
{
	if (!s) {
		fputs("-", stdout);
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			putchar(c);
		else
			printf("\\x%02x", c);
	}
}

static void line_text(const char *label, const char *s)
{
	printf("  %-22s ", label);
	put_text(s);
	putchar('\n');
}

static void line_hex(const char *label, const uint8_t *p, size_t n)
{
	char *h = p ? to_hex(p, n) : NULL;

	printf("  %-22s %s\n", label, h ? (n ? h : "(empty)") : "-");
	free(h);
}

static void print_claims(const struct rk_token_claims *c, const char *cpak_path,
			 const struct rk_verify_opts *opts)
{
	const struct rk_realm_claims *r = &c->realm;
	const struct rk_platform_claims *p = &c->platform;
	char label[32];

	printf("token: CCA %s (CBOR tag %llu)\n", format_name(c->format), (unsigned long long)c->top_tag);
	printf("realm token (%s):\n", alg_name(c->realm_cose_alg));
	line_text("profile", r->profile ? r->profile : "(none: legacy CCA-SSD)");
	line_hex("challenge", r->challenge, sizeof(r->challenge));
	if (r->has_instance_id)
		line_hex("instance id", r->instance_id, sizeof(r->instance_id));
	line_hex("personalization value", r->rpv, sizeof(r->rpv));
	line_text("hash algorithm", rk_attest_hash_name(r->hash_algo));
	line_hex("RIM", r->rim, r->measurement_len);
	for (unsigned int i = 0; i < RK_ATTEST_NUM_REMS; i++) {
		snprintf(label, sizeof(label), "REM[%u]", i);
		line_hex(label, r->rem[i], r->measurement_len);
	}
	if (r->has_mec_policy)
		printf("  %-22s %u (%s)\n", "MEC policy", r->mec_policy,
		       r->mec_policy ? "private MECID" : "shared MECID");
	printf("  %-22s %s, %zu bytes\n", "RAK encoding", r->rak_is_cose_key ? "COSE_Key" : "raw EC point",
	       r->rak_claim_len);
	line_hex("RAK public key", r->rak_pub, sizeof(r->rak_pub));
	line_text("RAK hash algorithm", rk_attest_hash_name(r->rak_hash_algo));

	printf("platform token (%s):\n", alg_name(c->platform_cose_alg));
	line_text("profile", p->profile);
	line_hex("challenge", p->challenge, p->challenge_len);
	line_hex("implementation id", p->implementation_id, p->implementation_id_len);
	line_hex("instance id", p->instance_id, p->instance_id_len);
	line_hex("config", p->config, p->config_len);
	printf("  %-22s 0x%04x (%s)\n", "security lifecycle", p->lifecycle, lifecycle_name(p->lifecycle));
	line_text("hash algorithm", p->hash_algo);
	if (p->verification_service)
		line_text("verification service", p->verification_service);
	printf("  %-22s %zu\n", "software components", p->num_sw_components);
	for (size_t i = 0; i < p->num_sw_components; i++) {
		const struct rk_sw_component *sw = &p->sw_components[i];

		printf("   [%zu] ", i);
		put_text(sw->measurement_type);
		fputs(" version ", stdout);
		put_text(sw->version);
		fputs(" hash ", stdout);
		put_text(sw->hash_algo);
		putchar('\n');
		line_hex("   measurement", sw->measurement, sw->measurement_len);
		line_hex("   signer id", sw->signer_id, sw->signer_id_len);
	}

	printf("checks:\n");
	printf("  %-22s valid (%s, RAK from claim 44237)\n", "realm signature", alg_name(c->realm_cose_alg));
	if (c->platform_signature == RK_SIG_VALID)
		printf("  %-22s valid (%s, CPAK %s)\n", "platform signature", alg_name(c->platform_cose_alg),
		       cpak_path);
	else
		printf("  %-22s not checked (no --cpak)\n", "platform signature");
	printf("  %-22s valid (platform challenge = %s(RAK claim))\n", "binding",
	       rk_attest_hash_name(r->rak_hash_algo));
	printf("  %-22s %s\n", "challenge", opts->expected_challenge ? "matches --challenge" : "not checked");
	printf("  %-22s %s\n", "RIM", opts->expected_rim ? "matches --rim" : "not checked");
	printf("result: VALID\n");
}

/* ---- JSON output ---- */

/* A JSON string for a token string; jansson needs UTF-8, so escape if not. */
static json_t *jstr(const char *s)
{
	json_t *j;
	char *esc, *o;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	esc = malloc(4 * strlen(s) + 1);
	if (!esc)
		return json_null();
	o = esc;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x80)
			*o++ = (char)c;
		else
			o += sprintf(o, "\\x%02x", c);
	}
	*o = '\0';
	j = json_string(esc);
	free(esc);
	return j ? j : json_null();
}

static json_t *jhex(const uint8_t *p, size_t n)
{
	char *h;
	json_t *j;

	if (!p)
		return json_null();
	h = to_hex(p, n);
	if (!h)
		return json_null();
	j = json_string(h);
	free(h);
	return j ? j : json_null();
}

static json_t *claims_json(const struct rk_token_claims *c, const struct rk_verify_opts *opts)
{
	const struct rk_realm_claims *r = &c->realm;
	const struct rk_platform_claims *p = &c->platform;
	json_t *root = json_object(), *realm = json_object(), *plat = json_object();
	json_t *rems = json_array(), *sws = json_array(), *checks = json_object();

	if (!root || !realm || !plat || !rems || !sws || !checks) {
		json_decref(root);
		json_decref(realm);
		json_decref(plat);
		json_decref(rems);
		json_decref(sws);
		json_decref(checks);
		return NULL;
	}
	json_object_set_new(root, "valid", json_true());
	json_object_set_new(root, "format", json_string(format_name(c->format)));
	json_object_set_new(root, "top_tag", json_integer((json_int_t)c->top_tag));

	json_object_set_new(realm, "profile", jstr(r->profile));
	json_object_set_new(realm, "cose_alg", json_integer(c->realm_cose_alg));
	json_object_set_new(realm, "challenge", jhex(r->challenge, sizeof(r->challenge)));
	json_object_set_new(realm, "instance_id",
			    r->has_instance_id ? jhex(r->instance_id, sizeof(r->instance_id)) : json_null());
	json_object_set_new(realm, "personalization_value", jhex(r->rpv, sizeof(r->rpv)));
	json_object_set_new(realm, "hash_algo", json_string(rk_attest_hash_name(r->hash_algo)));
	json_object_set_new(realm, "rim", jhex(r->rim, r->measurement_len));
	for (unsigned int i = 0; i < RK_ATTEST_NUM_REMS; i++)
		json_array_append_new(rems, jhex(r->rem[i], r->measurement_len));
	json_object_set_new(realm, "rems", rems);
	json_object_set_new(realm, "mec_policy",
			    r->has_mec_policy ? json_integer(r->mec_policy) : json_null());
	json_object_set_new(realm, "rak_encoding", json_string(r->rak_is_cose_key ? "cose_key" : "raw"));
	json_object_set_new(realm, "rak_claim", jhex(r->rak_claim, r->rak_claim_len));
	json_object_set_new(realm, "rak_public_key", jhex(r->rak_pub, sizeof(r->rak_pub)));
	json_object_set_new(realm, "rak_hash_algo", json_string(rk_attest_hash_name(r->rak_hash_algo)));
	json_object_set_new(root, "realm", realm);

	json_object_set_new(plat, "profile", jstr(p->profile));
	json_object_set_new(plat, "cose_alg", json_integer(c->platform_cose_alg));
	json_object_set_new(plat, "challenge", jhex(p->challenge, p->challenge_len));
	json_object_set_new(plat, "implementation_id", jhex(p->implementation_id, p->implementation_id_len));
	json_object_set_new(plat, "instance_id", jhex(p->instance_id, p->instance_id_len));
	json_object_set_new(plat, "config", jhex(p->config, p->config_len));
	json_object_set_new(plat, "security_lifecycle", json_integer(p->lifecycle));
	json_object_set_new(plat, "security_lifecycle_name", json_string(lifecycle_name(p->lifecycle)));
	json_object_set_new(plat, "hash_algo", jstr(p->hash_algo));
	json_object_set_new(plat, "verification_service", jstr(p->verification_service));
	for (size_t i = 0; i < p->num_sw_components; i++) {
		const struct rk_sw_component *sw = &p->sw_components[i];
		json_t *o = json_object();

		if (!o)
			break;
		json_object_set_new(o, "measurement_type", jstr(sw->measurement_type));
		json_object_set_new(o, "measurement_value", jhex(sw->measurement, sw->measurement_len));
		json_object_set_new(o, "version", jstr(sw->version));
		json_object_set_new(o, "signer_id", jhex(sw->signer_id, sw->signer_id_len));
		json_object_set_new(o, "hash_algo", jstr(sw->hash_algo));
		json_array_append_new(sws, o);
	}
	json_object_set_new(plat, "sw_components", sws);
	json_object_set_new(root, "platform", plat);

	json_object_set_new(checks, "realm_signature", json_string("valid"));
	json_object_set_new(checks, "platform_signature",
			    json_string(c->platform_signature == RK_SIG_VALID ? "valid" : "not checked"));
	json_object_set_new(checks, "binding", json_string("valid"));
	json_object_set_new(checks, "challenge",
			    json_string(opts->expected_challenge ? "match" : "not checked"));
	json_object_set_new(checks, "rim", json_string(opts->expected_rim ? "match" : "not checked"));
	json_object_set_new(root, "checks", checks);
	json_object_set_new(root, "error", json_null());
	return root;
}

static json_t *error_json(const struct rk_verify_error *err)
{
	json_t *root = json_object(), *e = json_object();

	if (!root || !e) {
		json_decref(root);
		json_decref(e);
		return NULL;
	}
	json_object_set_new(e, "code", json_string(rk_verify_code_name(err->code)));
	json_object_set_new(e, "reason", jstr(err->reason));
	json_object_set_new(root, "valid", json_false());
	json_object_set_new(root, "error", e);
	return root;
}

static int print_json(json_t *j)
{
	int ret;

	if (!j) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	ret = json_dumpf(j, stdout, JSON_INDENT(2));
	json_decref(j);
	if (ret == 0)
		putchar('\n');
	return ret;
}

struct verify_args {
	const char *cpak_path, *token_path;
	uint8_t rim[RK_ATTEST_MAX_HASH_SIZE], challenge[RK_ATTEST_CHALLENGE_SIZE];
	size_t rim_len;
	bool has_challenge, json;
};

/* 0 parsed, 1 help printed, 2 usage error. */
static int verify_parse(int argc, char **argv, struct verify_args *a)
{
	static const struct option longopts[] = {
		{ "cpak", required_argument, NULL, 'k' },
		{ "rim", required_argument, NULL, 'r' },
		{ "challenge", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long n;
	int opt;

	memset(a, 0, sizeof(*a));
	optind = 0; /* a full reset of getopt's state */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":k:r:c:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			a->cpak_path = optarg;
			break;
		case 'r':
			n = arg_hex(optarg, a->rim, sizeof(a->rim));
			if (n != 32 && n != 48 && n != 64) {
				fprintf(stderr, PROG ": --rim needs 32, 48 or 64 bytes of hex\n");
				return 2;
			}
			a->rim_len = (size_t)n;
			break;
		case 'c':
			n = arg_hex(optarg, a->challenge, sizeof(a->challenge));
			if (n != RK_ATTEST_CHALLENGE_SIZE) {
				fprintf(stderr, PROG ": --challenge needs 64 bytes of hex\n");
				return 2;
			}
			a->has_challenge = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case ':':
			fprintf(stderr, PROG ": option '%s' needs an argument\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		default:
			fprintf(stderr, PROG ": unknown option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, PROG ": %s\n",
			optind >= argc ? "missing TOKEN" : "exactly one TOKEN expected");
		usage(stderr);
		return 2;
	}
	a->token_path = argv[optind];
	return 0;
}

/* cli.h */
int parse_verify(int argc, char **argv)
{
	struct verify_args a;
	int ret = verify_parse(argc, argv, &a);

	return ret == 1 ? 0 : ret;
}

int cmd_verify(int argc, char **argv)
{
	struct verify_args a;
	struct rk_verify_opts opts = { 0 };
	struct rk_attest_key *cpak = NULL;
	struct rk_token_claims claims;
	struct rk_verify_error err;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret = verify_parse(argc, argv, &a);

	if (ret)
		return ret == 1 ? 0 : 2;
	if (a.rim_len) {
		opts.expected_rim = a.rim;
		opts.expected_rim_len = a.rim_len;
	}
	if (a.has_challenge) {
		opts.expected_challenge = a.challenge;
		opts.expected_challenge_len = RK_ATTEST_CHALLENGE_SIZE;
	}
	if (a.cpak_path) {
		ret = rk_attest_key_load_pem(a.cpak_path, &cpak);
		if (ret) {
			fprintf(stderr, PROG ": cannot use CPAK '%s': %s\n", a.cpak_path,
				ret == -EINVAL    ? "no EC key in PEM form"
				: ret == -ENOTSUP ? "not a P-256/P-384/P-521 EC key"
						  : strerror(-ret));
			return 2;
		}
		opts.cpak = cpak;
	}

	ret = read_token(a.token_path, &buf, &len);
	if (ret) {
		fprintf(stderr, PROG ": cannot read '%s': %s\n", a.token_path,
			ret == -EISDIR ? "is a directory" : strerror(-ret));
		rk_attest_key_free(cpak);
		return 1;
	}

	ret = rk_token_verify(buf, len, &opts, &claims, &err);
	if (ret == 0) {
		if (a.json)
			ret = print_json(claims_json(&claims, &opts)) ? 1 : 0;
		else
			print_claims(&claims, a.cpak_path, &opts);
	} else {
		fprintf(stderr, PROG ": %s: INVALID: %s [%s]\n", a.token_path, err.reason,
			rk_verify_code_name(err.code));
		if (a.json)
			print_json(error_json(&err));
		ret = 1;
	}
	fflush(stdout);
	rk_token_claims_release(&claims);
	rk_attest_key_free(cpak);
	free(buf);
	return ret;
}
