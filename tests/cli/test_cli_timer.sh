#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The guest SDK's timer example from the CLI, in the vCPU backend's stage-2
# mode (the RMM emulates the realm's generic timers there): periodic ticks of
# the EL1 virtual timer, its PPI 27 injected by the host into a list register
# and acknowledged/EOId by the realm through ICC_IAR1/EOIR1_EL1, WFI between
# ticks (the host blocks the vCPU until the deadline). Asserts every tick
# came and none came early (the example measures them with CNTVCT_EL0).
# The same as a normal VM (--normal): the host gives it the same GIC CPU
# interface (the platform's, driven by its host CPU's ICH state) and timers.
# Needs RK_CLI and RK_BINARY_DIR (set by ctest) and the guest payloads.
set -uo pipefail

. "$(dirname "$0")/../support/cli_common.sh"
need_payload timer.elf
export RK_CPU_MODE=stage2

run_cli timer 0 run "$g/timer.elf" --timeout 60
out_has timer out "timer: CNTFRQ_EL0 62500000 Hz, 5 ticks of 20 ms from the virtual timer (PPI 27)"
for i in 1 2 3 4 5; do
	out_has timer out "timer: tick $i after "
done
out_hasnt timer out "(EARLY)"
out_has timer out "timer: 5 of 5 ticks, 0 spurious: PASS"
out_has timer err "timer: PASS (value 0x5), then vCPU 0: PSCI SYSTEM_OFF"
out_has timer err "torn down, nothing leaked"
run_cli timer_normal 0 run --normal "$g/timer.elf" --timeout 60
out_has timer_normal out "timer: CNTFRQ_EL0 62500000 Hz, 5 ticks of 20 ms from the virtual timer (PPI 27)"
for i in 1 2 3 4 5; do
	out_has timer_normal out "timer: tick $i after "
done
out_hasnt timer_normal out "(EARLY)"
out_has timer_normal out "timer: 5 of 5 ticks, 0 spurious: PASS"
out_has timer_normal err "timer: PASS (value 0x5), then vCPU 0: PSCI SYSTEM_OFF"
out_has timer_normal err "torn down, nothing leaked"
if [ "$failures" -ne 0 ]; then
	echo "test_cli_timer: $failures failure(s)"
	exit 1
fi
echo "test_cli_timer: all passed"
