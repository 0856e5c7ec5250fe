#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The guest SDK's MMU-on examples from the CLI, output asserted, in the vCPU
# backend's default stage-2 mode (the guest's own MMU works only there): mmu (identity and high-VA mappings, stage-1 faults taken and
# fixed by the guest), unmap (the host unmaps a shared and a private page while
# the realm runs; the realm's next access exits to the host, as the RMM spec
# says), bad_destroyed (a private page the host unmapped, touched anyway: a
# SYNC exit the host cannot serve, a clear diagnosis), user (EL0 tasks,
# syscalls, stage-1 faults from EL0).
# Needs RK_CLI and RK_BINARY_DIR (set by ctest) and the guest payloads.
set -uo pipefail

. "$(dirname "$0")/../support/cli_common.sh"
need_payload mmu.elf
unset RK_CPU_MODE

clean_teardown() {
	out_has "$1" err "torn down, nothing leaked"
	out_hasnt "$1" err "leak report"
}

run_cli mmu 0 run "$g/mmu.elf" --timeout 60
out_has mmu out "mmu: MMU on (SCTLR_EL1.M 1), TTBR0_EL1 0x8000"
out_has mmu out "mmu: this string was read through its high VA (0xffff0000000"
out_has mmu out "mmu: wrote 0x2222222222222222 at 0xffff0000000"
out_has mmu out ", read 0x2222222222222222 at 0x8000"
out_has mmu out "mmu: code called at its high VA ran at PC 0xffff0000000"
out_has mmu out ": 0x123456789abcdef"
# translation faults: level 0 (no table for that VA), then level 3 (a write), then level 3 after the unmap
out_has mmu out "mmu: stage-1 fault 1: ESR_EL1 0x96000004 (EC 0x25 FSC 0x4) FAR_EL1 0x500000000000: mapping it"
out_has mmu out "mmu: read 0x5afe5afe5afe5afe at 0x500000000000 after the fault"
out_has mmu out "mmu: stage-1 fault 2: ESR_EL1 0x96000047 (EC 0x25 FSC 0x7, write) FAR_EL1 0x500000001008"
out_has mmu out "mmu: stored 0x77 at 0x500000001008: the backing page has 0x77"
out_has mmu out "mmu: stage-1 fault 3: ESR_EL1 0x96000007 (EC 0x25 FSC 0x7) FAR_EL1 0x500000000000"
out_has mmu out "mmu: unmapped 0x500000000000 (0), read it again: 0x5afe5afe5afe5afe"
out_has mmu out "mmu: MMU off (SCTLR_EL1.M 0): word 0x2222222222222222, backing 0x77"
out_has mmu out "mmu: 3 stage-1 faults handled: PASS"
out_has mmu err "mmu: PASS (value 0x3)"
clean_teardown mmu

run_cli unmap 0 run "$g/unmap.elf" --timeout 60
out_has unmap out "unmap: shared page 0x8010000000 (mapped Normal: 0): wrote and read 0x1111111111111111; shared faults 0 -> 1"
out_has unmap out "unmap: the host unmapped it (RMI_RTT_UNPROT_UNMAP) and wrote 0x4057da7a4057da7a behind it: done"
out_has unmap out "unmap: the next read exited to the host (shared faults 1 -> 2), which mapped it again: 0x4057da7a4057da7a (the host's data)"
out_has unmap out "the host unmapped it (RMI_RTT_DATA_UNMAP): done; IPA_STATE_GET = 0, RIPAS DESTROYED"
out_has unmap out "unmap: IPA_STATE_SET(RAM, CHANGE_DESTROYED) = 0, accepted, RIPAS RAM"
out_has unmap out "unmap: the next read exited to the host (stage-2 faults 0 -> 1), which mapped a new granule: 0x0 (the old contents are gone)"
out_has unmap out "unmap: RK_HC_UNMAP of IPA 0x1000 (no guest memory): refused"
out_has unmap err "realmkit run: RK_HC_UNMAP of IPA 0x1000 refused: not a page of guest RAM or of the shared buffer"
out_has unmap err "unmap: PASS"
clean_teardown unmap
# the RMI commands behind it, from the host library
run_cli unmap_trace 0 run "$g/unmap.elf" --trace --timeout 60
out_has unmap_trace err "rmi: RMI_RTT_UNPROT_UNMAP("
out_has unmap_trace err "rmi: RMI_RTT_DATA_UNMAP("
out_has unmap_trace err "rmi: RMI_RTT_SET_RIPAS("

# a DESTROYED page touched: a SYNC exit to the host (not an SEA), which cannot map it usable again
run_cli bad_destroyed 1 run "$g/bad_destroyed.elf" --timeout 60
out_has bad_destroyed out "unmapped by the host (1), RIPAS DESTROYED; reading it..."
out_hasnt bad_destroyed out "the read returned"
out_has bad_destroyed err "stage-2 fault at protected IPA 0x"
out_has bad_destroyed err "persists after mapping"
clean_teardown bad_destroyed

# EL0 tasks: the engine's EL0 -> EL1 exception delivery (tests/platform/test_cpu_el0.c).
run_cli user 0 run "$g/user.elf" --timeout 60
out_has user out "user: syscall 1 from EL0 (SPSR_EL1 0x3c0, ELR_EL1 0x"
out_has user out "user: EL0 says: hello from EL0"
out_has user out "user: syscall 2 from EL0 (SPSR_EL1 0x3c0"
out_has user out "user: syscall 99 from EL0 (SPSR_EL1 0x3c0"
out_has user out "user: stage-1 fault from EL0: ESR_EL1 0x92000004 (EC 0x24 FSC 0x4) FAR_EL1 0x600000000000"
out_has user out "user: task: exited with 0x21036"
out_has user out "user: read_kernel: ended by an exception: ESR_EL1 0x9200000f (EC 0x24 FSC 0xf) FAR_EL1 0x8000"
out_has user out "user: jump_to_kernel: ended by an exception: ESR_EL1 0x8200000f (EC 0x20 FSC 0xf)"
out_has user out "user: 3 syscalls, 1 EL0 faults mapped: PASS"
out_has user err "user: PASS (value 0x3)"
clean_teardown user

# A mode name the backend does not know: said on stderr, and the default (stage2) is used.
RK_CPU_MODE=stage3 run_cli badmode 0 run "$g/mmu.elf" --timeout 60
out_has badmode err "RK_CPU_MODE=stage3 is neither \"stage2\" nor \"hooks\": using stage2"
out_has badmode out "mmu: 3 stage-1 faults handled: PASS"

if [ "$failures" -ne 0 ]; then
	echo "test_cli_mmu: $failures failure(s)"
	exit 1
fi
echo "test_cli_mmu: all passed"
