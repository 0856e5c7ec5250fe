/* SPDX-License-Identifier: MIT */
/* keeps the test-support library non-empty */
int rk_test_support_anchor;
