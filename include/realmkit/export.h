/* SPDX-License-Identifier: MIT */
/*
 * RK_API marks the public API: the functions declared in the headers of
 * include/realmkit/. librealmkit is built with -fvisibility=hidden, so these
 * are the only symbols the shared library exports
 * (tests/project/test_exports.sh checks both directions).
 */
#ifndef REALMKIT_EXPORT_H
#define REALMKIT_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define RK_API __attribute__((visibility("default")))
#else
#define RK_API
#endif

#endif /* REALMKIT_EXPORT_H */
