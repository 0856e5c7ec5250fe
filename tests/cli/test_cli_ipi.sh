#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The guest SDK's ipi example from the CLI with 1, 2, 4 and 8 vCPUs, as a
# realm and as a normal VM (--normal: the same vGIC, run_normal.c): SGIs
# through the host's vGIC (to one vCPU, to all but the sender with IRM = 1,
# to a TargetList, a token passed around every vCPU), 12 interrupts pending at
# once on vCPU 0 (more than the 4 list registers) taken in priority order,
# PSCI CPU_OFF of the secondaries, an SGI sent to an off vCPU kept pending
# and taken after its second CPU_ON. Every count is asserted by the example
# and its lines here. Needs RK_CLI and RK_BINARY_DIR (set by ctest) and the
# guest payloads.
set -uo pipefail

. "$(dirname "$0")/../support/cli_common.sh"
need_payload ipi.elf

for t in 1 2 4 8 n1 n2 n4 n8; do
	n=${t#n}
	if [ "$t" = "$n" ]; then
		run_cli "ipi$t" 0 run "$g/ipi.elf" -c "$n" --timeout 120
	else
		run_cli "ipi$t" 0 run --normal "$g/ipi.elf" -c "$n" --timeout 120
	fi
	out_has "ipi$t" out "ipi: $n vCPUs up"
	out_has "ipi$t" out "ipi: ring: $((3 * n)) SGIs around $n vCPUs: ok"
	out_has "ipi$t" out "ipi: one: ok"
	out_has "ipi$t" out "ipi: all-but-self: $n senders, $((n - 1)) SGIs each: ok"
	out_has "ipi$t" out "ipi: list 0x"
	out_has "ipi$t" out "ipi: priorities: 12 interrupts pending at once, taken in priority order: ok"
	if [ "$n" -gt 1 ]; then
		out_has "ipi$t" out "ipi: $((n - 1)) vCPUs off"
		out_has "ipi$t" out "ipi: CPU_ON again: $n vCPUs up, the SGI sent to vCPU 1 while it was off taken after it: ok"
		out_has "ipi$t" out "ipi: $((n - 1)) vCPUs off again"
	fi
	out_has "ipi$t" out " 0 spurious: PASS"
	out_hasnt "ipi$t" out "FAILED"
	out_hasnt "ipi$t" out "WRONG"
	out_has "ipi$t" err "ipi: PASS (value 0x"
	out_has "ipi$t" err "torn down, nothing leaked"
done
if [ "$failures" -ne 0 ]; then
	echo "test_cli_ipi: $failures failure(s)"
	exit 1
fi
echo "test_cli_ipi: all passed"
