/* SPDX-License-Identifier: MIT */
/*
 * libcbor helpers for the attestation module: a bounded decoder for
 * untrusted input, and small builders that handle allocation failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest_internal.h"

/* What the last streaming-decoder callback saw. */
enum scan_kind {
	SCAN_NONE,
	SCAN_LEAF,
	SCAN_ARRAY,
	SCAN_MAP,
	SCAN_TAG,
	SCAN_INDEFINITE,
};

struct scan_ctx {
	enum scan_kind kind;
	uint64_t count;
};

static void scan_leaf(void *c)
{
	((struct scan_ctx *)c)->kind = SCAN_LEAF;
}

static void scan_u8(void *c, uint8_t v)
{
	(void)v;
	scan_leaf(c);
}

static void scan_u16(void *c, uint16_t v)
{
	(void)v;
	scan_leaf(c);
}

static void scan_u32(void *c, uint32_t v)
{
	(void)v;
	scan_leaf(c);
}

static void scan_u64(void *c, uint64_t v)
{
	(void)v;
	scan_leaf(c);
}

static void scan_str(void *c, cbor_data d, size_t n)
{
	(void)d;
	(void)n;
	scan_leaf(c);
}

static void scan_f(void *c, float v)
{
	(void)v;
	scan_leaf(c);
}

static void scan_d(void *c, double v)
{
	(void)v;
	scan_leaf(c);
}

static void scan_b(void *c, bool v)
{
	(void)v;
	scan_leaf(c);
}

static void scan_indef(void *c)
{
	((struct scan_ctx *)c)->kind = SCAN_INDEFINITE;
}

static void scan_array(void *c, size_t n)
{
	((struct scan_ctx *)c)->kind = SCAN_ARRAY;
	((struct scan_ctx *)c)->count = n;
}

static void scan_map(void *c, size_t n)
{
	((struct scan_ctx *)c)->kind = SCAN_MAP;
	((struct scan_ctx *)c)->count = n;
}

static void scan_tag(void *c, uint64_t v)
{
	(void)v;
	((struct scan_ctx *)c)->kind = SCAN_TAG;
}

static const struct cbor_callbacks scan_callbacks = {
	.uint8 = scan_u8,
	.uint16 = scan_u16,
	.uint32 = scan_u32,
	.uint64 = scan_u64,
	.negint8 = scan_u8,
	.negint16 = scan_u16,
	.negint32 = scan_u32,
	.negint64 = scan_u64,
	.byte_string_start = scan_indef,
	.byte_string = scan_str,
	.string = scan_str,
	.string_start = scan_indef,
	.indef_array_start = scan_indef,
	.array_start = scan_array,
	.indef_map_start = scan_indef,
	.map_start = scan_map,
	.tag = scan_tag,
	.float2 = scan_f,
	.float4 = scan_f,
	.float8 = scan_d,
	.undefined = scan_leaf,
	.null = scan_leaf,
	.boolean = scan_b,
	.indef_break = scan_indef,
};

static int scan_fail(enum rk_verify_code *code, char *reason, size_t reason_len, enum rk_verify_code c,
		     const char *msg, size_t off)
{
	*code = c;
	snprintf(reason, reason_len, "%s at byte %zu", msg, off);
	return -EBADMSG;
}

/*
 * libcbor 0.8's streaming decoder, and so cbor_load(), refuses the one-byte
 * heads of tags 6..20 (0xc6..0xd4) as "unassigned tag values" (streaming.c;
 * fixed in libcbor 0.11, commit ee2d304 "Support decoding all tag values").
 * They are well-formed CBOR (RFC 8949 §3.4: any tag number may use the short
 * form) and COSE_Sign1's tag 18 is one of them (0xd2). The prescan below
 * takes such a byte as the tag head it is, and rk_cbor_decode() hands libcbor
 * the same item with each of those heads in the two-byte form (0xd8 NN), which
 * libcbor decodes to the same tag. Only heads are rewritten, never string
 * contents, so every byte string (protected headers, payloads, signatures)
 * comes out exactly as it was.
 */
static bool small_tag_head(const uint8_t *p, size_t left)
{
	return left > 0 && p[0] >= 0xc6 && p[0] <= 0xd4;
}

/*
 * Walk the item with libcbor's streaming decoder (no allocation) and check
 * that it can be built safely: each array/map announces no more entries
 * than there are bytes left, nesting is bounded, lengths are definite, and
 * the item ends exactly at len. *small_tags counts the one-byte tag heads
 * libcbor 0.8 refuses; with out (len + *small_tags bytes, from a first pass),
 * the item is copied there with those heads in their two-byte form.
 */
static int cbor_prescan(const uint8_t *buf, size_t len, enum rk_verify_code *code, char *reason,
			size_t reason_len, size_t *small_tags, uint8_t *out)
{
	uint64_t remaining[RK_CBOR_MAX_DEPTH];
	unsigned int depth = 0;
	size_t off = 0, o = 0;

	*small_tags = 0;
	for (;;) {
		struct scan_ctx ctx = { SCAN_NONE, 0 };
		struct cbor_decoder_result res;
		size_t left = len - off;
		bool complete = false;

		if (left == 0)
			return scan_fail(code, reason, reason_len, RK_VERIFY_ERR_CBOR,
					 "truncated CBOR (unexpected end)", off);
		res = cbor_stream_decode(buf + off, left, &scan_callbacks, &ctx);
		if (res.status == CBOR_DECODER_ERROR && small_tag_head(buf + off, left)) {
			res = (struct cbor_decoder_result){ .read = 1, .status = CBOR_DECODER_FINISHED };
			ctx.kind = SCAN_TAG;
			if (out) {
				out[o++] = 0xd8;
				out[o++] = (uint8_t)(buf[off] - 0xc0);
			}
			(*small_tags)++;
		} else if (out && res.status == CBOR_DECODER_FINISHED && res.read <= left) {
			memcpy(out + o, buf + off, res.read);
			o += res.read;
		}
		if (res.status == CBOR_DECODER_NEDATA)
			return scan_fail(code, reason, reason_len, RK_VERIFY_ERR_CBOR,
					 "truncated CBOR (item runs past the end)", off);
		/* well-formed, but libcbor (any version) has no item for them */
		if (res.status == CBOR_DECODER_ERROR &&
		    ((buf[off] >= 0xe0 && buf[off] <= 0xf3) ||
		     (buf[off] == 0xf8 && left > 1 && buf[off + 1] >= 32)))
			return scan_fail(code, reason, reason_len, RK_VERIFY_ERR_CBOR_UNSUPPORTED,
					 "unassigned CBOR simple value not supported", off);
		if (res.status != CBOR_DECODER_FINISHED || res.read == 0 || res.read > left)
			return scan_fail(code, reason, reason_len, RK_VERIFY_ERR_CBOR, "malformed CBOR", off);
		off += res.read;
		left = len - off;
		switch (ctx.kind) {
		case SCAN_NONE: /* e.g. an unassigned simple value: a leaf */
		case SCAN_LEAF:
			complete = true;
			break;
		case SCAN_INDEFINITE:
			return scan_fail(code, reason, reason_len, RK_VERIFY_ERR_CBOR_UNSUPPORTED,
					 "indefinite-length CBOR item not supported", off - res.read);
		case SCAN_ARRAY:
		case SCAN_MAP: {
			uint64_t items = ctx.count;

			if (ctx.kind == SCAN_MAP) {
				if (items > left / 2)
					return scan_fail(code, reason, reason_len, RK_VERIFY_ERR_CBOR,
							 "CBOR map longer than the data left",
							 off - res.read);
				items *= 2;
			} else if (items > left) {
				return scan_fail(code, reason, reason_len, RK_VERIFY_ERR_CBOR,
						 "CBOR array longer than the data left", off - res.read);
			}
			if (items == 0) {
				complete = true;
				break;
			}
			if (depth == RK_CBOR_MAX_DEPTH)
				return scan_fail(code, reason, reason_len, RK_VERIFY_ERR_CBOR_UNSUPPORTED,
						 "CBOR nested too deeply", off - res.read);
			remaining[depth++] = items;
			break;
		}
		case SCAN_TAG:
			if (depth == RK_CBOR_MAX_DEPTH)
				return scan_fail(code, reason, reason_len, RK_VERIFY_ERR_CBOR_UNSUPPORTED,
						 "CBOR nested too deeply", off - res.read);
			remaining[depth++] = 1;
			break;
		}
		if (!complete)
			continue;
		/* One item finished: close every container it completes. */
		while (depth > 0 && --remaining[depth - 1] == 0)
			depth--;
		if (depth == 0)
			break;
	}
	if (off != len)
		return scan_fail(code, reason, reason_len, RK_VERIFY_ERR_CBOR_TRAILING,
				 "unexpected data after the CBOR item", off);
	return 0;
}

int rk_cbor_decode(const uint8_t *buf, size_t len, cbor_item_t **out, enum rk_verify_code *code, char *reason,
		   size_t reason_len)
{
	struct cbor_load_result res;
	uint8_t *copy = NULL;
	size_t small_tags = 0;
	cbor_item_t *item;
	int ret;

	*out = NULL;
	if (len == 0)
		return scan_fail(code, reason, reason_len, RK_VERIFY_ERR_CBOR, "empty CBOR item", 0);
	ret = cbor_prescan(buf, len, code, reason, reason_len, &small_tags, NULL);
	if (ret)
		return ret;
	if (small_tags) {
		copy = malloc(len + small_tags);
		if (!copy)
			return -ENOMEM;
		ret = cbor_prescan(buf, len, code, reason, reason_len, &small_tags, copy);
		if (ret) {
			free(copy);
			return ret;
		}
		buf = copy;
		len += small_tags;
	}
	memset(&res, 0, sizeof(res));
	item = cbor_load(buf, len, &res);
	free(copy);
	if (!item) {
		if (res.error.code == CBOR_ERR_MEMERROR)
			return -ENOMEM;
		return scan_fail(code, reason, reason_len, RK_VERIFY_ERR_CBOR, "malformed CBOR",
				 res.error.position);
	}
	if (res.read != len) {
		cbor_decref(&item);
		return scan_fail(code, reason, reason_len, RK_VERIFY_ERR_CBOR_TRAILING,
				 "unexpected data after the CBOR item", res.read);
	}
	*out = item;
	return 0;
}

cbor_item_t *rk_cbor_int(int64_t v)
{
	uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) : (uint64_t)v;
	cbor_item_t *item;

	if (u <= UINT8_MAX)
		item = v < 0 ? cbor_build_negint8((uint8_t)u) : cbor_build_uint8((uint8_t)u);
	else if (u <= UINT16_MAX)
		item = v < 0 ? cbor_build_negint16((uint16_t)u) : cbor_build_uint16((uint16_t)u);
	else if (u <= UINT32_MAX)
		item = v < 0 ? cbor_build_negint32((uint32_t)u) : cbor_build_uint32((uint32_t)u);
	else
		item = v < 0 ? cbor_build_negint64(u) : cbor_build_uint64(u);
	return item;
}

bool rk_cbor_map_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value)
{
	bool ok = false;

	if (key && value)
		ok = cbor_map_add(map, (struct cbor_pair){ .key = key, .value = value });
	/* cbor_map_add took its own references. */
	if (key)
		cbor_decref(&key);
	if (value)
		cbor_decref(&value);
	return ok;
}

bool rk_cbor_array_push(cbor_item_t *array, cbor_item_t *value)
{
	bool ok;

	if (!value)
		return false;
	ok = cbor_array_push(array, value);
	cbor_decref(&value);
	return ok;
}

cbor_item_t *rk_cbor_tag(uint64_t tag, cbor_item_t *value)
{
	cbor_item_t *t;

	if (!value)
		return NULL;
	t = cbor_build_tag(tag, value);
	cbor_decref(&value);
	return t;
}

int rk_cbor_serialize(const cbor_item_t *item, uint8_t **out, size_t *len)
{
	unsigned char *buf = NULL;
	size_t cap = 0, n;

	n = cbor_serialize_alloc(item, &buf, &cap);
	if (n == 0) {
		free(buf);
		*out = NULL;
		*len = 0;
		return -ENOMEM;
	}
	*out = buf;
	*len = n;
	return 0;
}

bool rk_cbor_get_int(const cbor_item_t *item, int64_t *v)
{
	uint64_t u;

	if (cbor_isa_uint(item)) {
		u = cbor_get_int(item);
		if (u > INT64_MAX)
			return false;
		*v = (int64_t)u;
		return true;
	}
	if (cbor_isa_negint(item)) {
		u = cbor_get_int(item);
		if (u > INT64_MAX)
			return false;
		*v = -1 - (int64_t)u;
		return true;
	}
	return false;
}

int rk_cbor_map_find(const cbor_item_t *map, int64_t key, cbor_item_t **value)
{
	struct cbor_pair *pairs = cbor_map_handle(map);
	size_t n = cbor_map_size(map);
	int found = 0;

	*value = NULL;
	for (size_t i = 0; i < n; i++) {
		int64_t k;

		if (!rk_cbor_get_int(pairs[i].key, &k) || k != key)
			continue;
		if (found++)
			return -EEXIST;
		*value = pairs[i].value;
	}
	return found ? 0 : -ENOENT;
}

static int label_cmp(const void *a, const void *b)
{
	const struct rk_cbor_label *x = a, *y = b;

	if (x->text != y->text)
		return x->text ? 1 : -1;
	if (!x->text)
		return x->i < y->i ? -1 : x->i > y->i;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->len ? memcmp(x->s, y->s, x->len) : 0;
}

int rk_cbor_map_dup_label(const cbor_item_t *map, struct rk_cbor_label *dup)
{
	struct cbor_pair *pairs = cbor_map_handle(map);
	size_t n = cbor_map_size(map), k = 0;
	struct rk_cbor_label *l;
	int ret = 0;

	if (n < 2)
		return 0;
	l = calloc(n, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (rk_cbor_get_int(pairs[i].key, &l[k].i)) {
			k++;
		} else if (cbor_isa_string(pairs[i].key) && cbor_string_is_definite(pairs[i].key)) {
			l[k].text = true;
			l[k].s = cbor_string_handle(pairs[i].key);
			l[k].len = cbor_string_length(pairs[i].key);
			k++;
		}
	}
	qsort(l, k, sizeof(*l), label_cmp);
	for (size_t i = 1; i < k; i++) {
		if (!label_cmp(&l[i - 1], &l[i])) {
			*dup = l[i];
			ret = 1;
			break;
		}
	}
	free(l);
	return ret;
}

cbor_item_t *rk_cbor_tag_item(const cbor_item_t *tag)
{
	cbor_item_t *item = cbor_tag_item(tag);

	/* The tag keeps its own reference: hand out a borrowed pointer. */
	if (item)
		cbor_intermediate_decref(item);
	return item;
}

const char *rk_cbor_type_name(const cbor_item_t *item)
{
	switch (cbor_typeof(item)) {
	case CBOR_TYPE_UINT:
		return "unsigned integer";
	case CBOR_TYPE_NEGINT:
		return "negative integer";
	case CBOR_TYPE_BYTESTRING:
		return "byte string";
	case CBOR_TYPE_STRING:
		return "text string";
	case CBOR_TYPE_ARRAY:
		return "array";
	case CBOR_TYPE_MAP:
		return "map";
	case CBOR_TYPE_TAG:
		return "tag";
	case CBOR_TYPE_FLOAT_CTRL:
		return "simple/float";
	}
	return "unknown";
}
