/* SPDX-License-Identifier: MIT */
/* The few C library functions GCC may call even when freestanding. Byte
 * loops: the MMU is off, so all memory is Device memory and unaligned
 * accesses would fault on hardware (-mstrict-align keeps GCC aligned too). */
#include "sdk.h"

void *memset(void *s, int c, size_t n)
{
	volatile uint8_t *p = s; /* volatile: keep GCC from calling memset here */

	while (n--)
		*p++ = (uint8_t)c;
	return s;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	volatile uint8_t *d = dst;
	const uint8_t *s = src;

	if ((((uintptr_t)d | (uintptr_t)s | n) & 7) == 0) {
		volatile uint64_t *d8 = dst;
		const uint64_t *s8 = src;

		for (n /= 8; n; n--)
			*d8++ = *s8++;
		return dst;
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	volatile uint8_t *d = dst;
	const uint8_t *s = src;

	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}
