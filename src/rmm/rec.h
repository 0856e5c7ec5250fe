/* SPDX-License-Identifier: MIT */
/* The REC (Realm Execution Context), as the RMM keeps it inside the REC granule. */
#ifndef RK_RMM_REC_H
#define RK_RMM_REC_H

#include <stdint.h>

#include "granule.h"
#include "platform/gic.h"
#include "realmkit/gtimer.h"
#include "idregs.h"
#include "rmm.h"
#include "s2tt.h"

#define REC_NUM_AUX 16u /* granules donated to every REC by the REC_CREATE SRO */
#define REC_NUM_GPRS 31u

struct rk_cpu;

/*
 * What the engine's SMC hook needs to answer register-only RSI/PSCI calls
 * without leaving the engine (rec_run.c): set at every REC_ENTER.
 */
struct rk_cpu_smc_ctx {
	struct rmm *rmm;
	struct rec *rec;
	struct s2tt_ctx s2;
};

/* What the REC waits for the host to complete before it can run on. */
enum rec_pending {
	REC_PENDING_NONE = 0,      /* nothing outstanding */
	REC_PENDING_PSCI = 1,      /* PSCI CPU_ON/AFFINITY_INFO: RMI_PSCI_COMPLETE due */
	REC_PENDING_RIPAS = 2,     /* RSI_IPA_STATE_SET: RMI_RTT_SET_RIPAS, then entry */
	REC_PENDING_HOST_CALL = 3, /* RSI_HOST_CALL: results come with the next entry */
	REC_PENDING_MMIO = 4,      /* emulatable data abort: the host may emulate it */
	REC_PENDING_SYSREG = 5,    /* a trapped MRS (EC 0x18): its value comes in enter.gprs[0] */
};

/* Lives in the REC granule; accessed under the REC granule's lock, or by the
 * thread running the REC (refcount == 1, see REC_ENTER). */
struct rec {
	uint64_t rd;               /* PA of the owning RD */
	uint64_t mpidr;            /* RmiRecMpidr value */
	uint64_t aux[REC_NUM_AUX]; /* donated granules (REC_AUX) */
	uint64_t gprs[REC_NUM_GPRS];
	uint64_t pc;
	uint64_t pstate;
	uint64_t sysregs[8];                        /* saved EL1 state while the engine is absent */
	struct rk_cpu *cpu;                         /* execution engine, created on first entry */
	uint32_t index;                             /* MPIDR index = creation order */
	uint8_t runnable;                           /* bool: may be entered; rec_runnable() to read it
					 while the REC may be running on another thread */
	uint8_t pending;                            /* enum rec_pending */
	uint8_t psci_target_valid;                  /* bool */
	uint8_t ripas_value;                        /* requested RIPAS */
	uint64_t psci_fid;                          /* pending PSCI function */
	uint64_t psci_target_mpidr;                 /* its target */
	uint64_t ripas_base, ripas_top, ripas_addr; /* pending RIPAS change */
	uint64_t ripas_flags;
	uint64_t host_call_ipa;                  /* pending host call structure */
	uint64_t last_esr, last_far, last_hpfar; /* last exit, to validate entry flags */
	uint8_t last_exit_emulatable;            /* bool: last exit was an emulatable MMIO abort */
	uint8_t last_exit_ns_abort;              /* bool: last exit was a data abort at an unprotected IPA */
	uint8_t mmio_is_write;                   /* bool: the emulatable abort was a store */
	uint8_t reserved[5];
	uint64_t s2_gen;                   /* stage-2 generation the engine's mappings reflect */
	uint64_t ns_gen;                   /* NS (GPT) generation its NS mappings reflect */
	uint64_t code_gen;                 /* RMM writes into realm memory its engine's code reflects */
	uint64_t psci_entry, psci_context; /* CPU_ON arguments kept for PSCI_COMPLETE */
	uint64_t exits;                    /* statistics: REC exits */
	struct rk_cpu_smc_ctx fast;        /* the SMC hook's context */
	struct rk_cpu_sysreg_ctx idregs;   /* the sysreg hook's: what the realm's ID registers show */
	uint32_t token_len;                /* attestation token in the aux granules */
	uint32_t token_off;                /* bytes already handed to the realm */
	uint8_t token_active;              /* bool: ATTEST_TOKEN_INIT done, CONTINUE due */
	uint8_t reserved2[7];
	/* exception-loop diagnosis (rec_run.c, RK_EXC_LOOP_LIMIT) */
	struct {
		uint64_t vector;        /* PC the last exception the RMM delivered went to */
		uint64_t pc, addr, esr; /* that exception: where, which address, syndrome */
		uint64_t count;         /* taken at its own vector this many times in a row */
		uint64_t cur_esr;       /* syndrome of the one being delivered now */
		uint8_t reason;         /* enum rk_cpu_exit_reason of the engine exit */
		uint8_t armed;          /* bool: vector is valid */
		uint8_t injected;       /* bool: the exit being handled delivered one */
		uint8_t reserved[5];
	} xloop;
	/* The GIC virtual CPU interface while the REC runs (vgic.h): the
	 * REC_ENTER CPU's ICH state, handed back at the exit. */
	struct plat_ich vgic;
	uint8_t virq;      /* bool: the engine's virtual IRQ line (HCR_EL2.VI) is raised */
	uint8_t sysreg_rt; /* REC_PENDING_SYSREG: the MRS's target register (31: XZR) */
	uint8_t timer_out; /* RK_GTIMER_OUT_*: the timer outputs reported at the last exit */
	uint8_t reserved3[5];
	/* The REC's EL1 generic timers (the platform's emulation,
	 * realmkit/gtimer.h; stage-2 mode), reported in RecExit on every exit
	 * (CNTVOFF = CNTPOFF = 0). */
	struct rk_gtimer timer;
};

_Static_assert(sizeof(struct rec) <= 4096, "REC must fit its granule");

static inline struct rec *rec_of(struct rmm *rmm, struct granule *g)
{
	return (struct rec *)granule_ptr(rmm, g);
}

/*
 * RmiRecMpidr: Aff0 [3:0], Aff1 [15:8], Aff2 [23:16], Aff3 [31:24], other bits
 * zero. Its index is Aff0 | Aff1 << 4 | Aff2 << 12 | Aff3 << 20.
 */
static inline bool rec_mpidr_index(uint64_t mpidr, uint32_t *idx)
{
	const uint64_t valid = 0xfULL | (0xffULL << 8) | (0xffULL << 16) | (0xffULL << 24);

	if (mpidr & ~valid)
		return false;
	*idx = (uint32_t)((mpidr & 0xf) | ((mpidr >> 8) & 0xff) << 4 | ((mpidr >> 16) & 0xff) << 12 |
			  ((mpidr >> 24) & 0xff) << 20);
	return true;
}

/* The RmiRecMpidr of an index (inverse of rec_mpidr_index). */
static inline uint64_t rec_index_mpidr(uint32_t idx)
{
	return (idx & 0xf) | ((uint64_t)((idx >> 4) & 0xff) << 8) | ((uint64_t)((idx >> 12) & 0xff) << 16) |
	       ((uint64_t)((idx >> 20) & 0xff) << 24);
}

/*
 * `runnable` is the one REC field another thread reads while the REC runs
 * (PSCI_COMPLETE of AFFINITY_INFO or CPU_ON, under the REC's granule lock,
 * while the running REC's own CPU_OFF clears it): accessed atomically.
 */
static inline bool rec_runnable(const struct rec *rec)
{
	return __atomic_load_n(&rec->runnable, __ATOMIC_ACQUIRE) != 0;
}

static inline void rec_set_runnable(struct rec *rec, bool v)
{
	__atomic_store_n(&rec->runnable, (uint8_t)v, __ATOMIC_RELEASE);
}

#endif
