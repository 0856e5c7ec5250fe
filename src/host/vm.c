/* SPDX-License-Identifier: MIT */
/*
 * The VM API a VMM uses: create (normal or realm), memory slots backed by
 * host memory, populate, map/unmap/fold/dump through the one stage-2 walker,
 * vCPUs, activate (explicit, or implicit on the first run), destroy. Every
 * entry point checks the operation against the lifecycle table
 * (lifecycle.c) first.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "s2.h"

#define DEFAULT_IPA_BITS HOST_DEFAULT_IPA_BITS
#define MIN_IPA_BITS 32u
#define BLOCK_GRANULES 512u /* 2 MiB */

#define FR(v, reg, f) (((v)&reg##_##f##_MASK) >> reg##_##f##_SHIFT)

/* Is op legal in the VM's state? -EPERM with a message naming both if not. */
int host_vm_check(struct rk_vm *vm, enum rk_vm_op op, const char *fn)
{
	size_t n;
	const struct rk_vm_op_info *o = &rk_vm_ops(&n)[op];
	char allowed[64] = "";

	if (o->legal & (1u << vm->state))
		return 0;
	for (unsigned int s = 0; s < RK_VM_NSTATES; s++) {
		if (!(o->legal & (1u << s)))
			continue;
		if (allowed[0])
			strncat(allowed, ", ", sizeof(allowed) - strlen(allowed) - 1);
		strncat(allowed, rk_vm_state_name((enum rk_vm_state)s),
			sizeof(allowed) - strlen(allowed) - 1);
	}
	return host_fail(vm->host, -EPERM, 0, 0, "%s: vm %u is %s%s; legal in %s only", fn, vm->id,
			 rk_vm_state_name((enum rk_vm_state)vm->state),
			 vm->state == RK_VM_DEAD                             ? " (already destroyed)"
			 : vm->state == RK_VM_ACTIVE && op == RK_OP_POPULATE ? " (populate after activate)"
									     : "",
			 allowed);
}

static int done(struct rk_host *h, int ret)
{
	if (!ret)
		host_ok(h);
	return ret;
}

void rk_vm_config_default(struct rk_vm_config *cfg, enum rk_vm_kind kind)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->kind = kind;
	cfg->ipa_bits = DEFAULT_IPA_BITS;
	cfg->hash_algo = RMI_HASH_SHA_256;
}

static int vm_config_check(struct rk_host *h, const struct rk_vm_config *cfg, unsigned int ipa_bits)
{
	if (cfg->kind != RK_VM_NORMAL && cfg->kind != RK_VM_REALM)
		return host_fail(h, -EINVAL, 0, 0, "unknown VM kind %u", (unsigned int)cfg->kind);
	if (cfg->flags & ~RK_VM_NO_RIM_PREDICTION)
		return host_fail(h, -EINVAL, 0, 0, "unknown VM flags 0x%x", cfg->flags);
	if (cfg->kind == RK_VM_NORMAL) {
		if (ipa_bits < MIN_IPA_BITS || ipa_bits > h->caps.host_ipa_limit)
			return host_fail(h, -EINVAL, 0, 0, "IPA size %u outside %u..%u (host_ipa_limit)",
					 ipa_bits, MIN_IPA_BITS, h->caps.host_ipa_limit);
		return 0;
	}
	if (!h->caps.rmm_usable)
		return host_fail(h, -ENODEV, h->boot_err.fid, h->boot_err.x0, "%s", h->boot_err.msg);
	if (ipa_bits < MIN_IPA_BITS || ipa_bits > h->caps.rmi_ipa_limit)
		return host_fail(h, -EINVAL, 0, 0, "realm IPA size %u outside %u..%u (rmi_ipa_limit)",
				 ipa_bits, MIN_IPA_BITS, h->caps.rmi_ipa_limit);
	if (cfg->hash_algo > 31 || !(h->caps.rmi_hash_algos & (1u << cfg->hash_algo)))
		return host_fail(h, -EINVAL, 0, 0,
				 "hash algorithm %u is not offered by the RMM (rmi_hash_algos 0x%x)",
				 cfg->hash_algo, h->caps.rmi_hash_algos);
	if (cfg->num_bps > FR(h->caps.rmi_features[0], RMI_FR0, NUM_BPS) ||
	    cfg->num_wps > FR(h->caps.rmi_features[0], RMI_FR0, NUM_WPS))
		return host_fail(h, -EINVAL, 0, 0, "more breakpoints or watchpoints than the RMM offers");
	return 0;
}

static int vm_create(struct rk_host *h, const struct rk_vm_config *cfg, struct rk_vm **out)
{
	struct rk_vm_config def;
	struct rk_vm *vm;
	unsigned int ipa_bits;
	int ret;

	if (!h || !out)
		return -EINVAL;
	if (!cfg) {
		rk_vm_config_default(&def, RK_VM_NORMAL);
		cfg = &def;
	}
	ipa_bits = cfg->ipa_bits ? cfg->ipa_bits : DEFAULT_IPA_BITS;
	ret = vm_config_check(h, cfg, ipa_bits);
	if (ret)
		return ret;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return host_fail(h, -ENOMEM, 0, 0, "no memory for a VM");
	vm->host = h;
	vm->id = h->next_vm_id++;
	vm->kind = cfg->kind;
	vm->ipa_bits = ipa_bits;
	if (cfg->kind == RK_VM_REALM) {
		vm->state = RK_VM_NONE;
		vm->flags = (cfg->flags & RK_VM_NO_RIM_PREDICTION) ? VM_NO_RIM : 0;
		vm->realm.hash_algo = cfg->hash_algo;
		vm->realm.num_bps =
			cfg->num_bps ? cfg->num_bps : (uint32_t)FR(h->caps.rmi_features[0], RMI_FR0, NUM_BPS);
		vm->realm.num_wps =
			cfg->num_wps ? cfg->num_wps : (uint32_t)FR(h->caps.rmi_features[0], RMI_FR0, NUM_WPS);
		memcpy(vm->realm.rpv, cfg->rpv, sizeof(vm->realm.rpv));
		host_s2_init(&vm->s2, vm, &host_s2_realm_ops, ipa_bits);
	} else {
		vm->state = RK_VM_NEW;
		host_s2_init(&vm->s2, vm, &host_s2_normal_ops, ipa_bits);
		ret = host_s2_normal_attach(&vm->s2);
		if (ret) {
			free(vm);
			return ret;
		}
	}
	ret = host_run_init(vm);
	if (ret) {
		if (vm->kind == RK_VM_NORMAL)
			vm->s2.ops->root_free(&vm->s2);
		free(vm);
		return host_fail(h, ret, 0, 0, "cannot initialise the run state of a VM");
	}
	vm->next = h->vms;
	h->vms = vm;
	*out = vm;
	return done(h, 0);
}

static int vm_realm_create(struct rk_vm *vm)
{
	int ret;

	if (!vm)
		return -EINVAL;
	if (vm->kind != RK_VM_REALM)
		return host_fail(vm->host, -EINVAL, 0, 0, "rk_vm_realm_create: vm %u is not a realm", vm->id);
	ret = host_vm_check(vm, RK_OP_REALM_CREATE, "rk_vm_realm_create");
	if (!ret)
		ret = host_realm_create(vm);
	return done(vm->host, ret);
}

/* NONE -> NEW before an operation that needs the RMM objects. */
static int ensure_created(struct rk_vm *vm)
{
	if (vm->kind == RK_VM_REALM && vm->state == RK_VM_NONE)
		return host_realm_create(vm);
	return 0;
}

/* ---- memory slots ---- */

struct host_memslot *host_memslot_find(struct rk_vm *vm, uint64_t ipa, uint64_t size)
{
	for (uint32_t i = 0; i < vm->nslots; i++) {
		struct host_memslot *s = &vm->slots[i];
		if (ipa >= s->ipa && size <= s->size && ipa - s->ipa <= s->size - size)
			return s;
	}
	return NULL;
}

int host_memslot_pa(struct rk_vm *vm, uint64_t ipa, uint64_t size, uint64_t *pa)
{
	return host_memslot_backing(vm, ipa, size, false, pa);
}

int host_memslot_backing(struct rk_vm *vm, uint64_t ipa, uint64_t size, bool alias, uint64_t *pa)
{
	struct host_memslot *s;
	uint64_t i0, n = size / G4K;

	if (alias) {
		/* the unprotected alias of a private slot (realm) */
		ipa &= ~(1ULL << (vm->ipa_bits - 1));
		s = host_memslot_find(vm, ipa, size);
		if (s && (s->flags & RK_MEMSLOT_SHARED))
			s = NULL;
	} else {
		s = host_memslot_find(vm, ipa, size);
	}
	if (!s)
		return -EFAULT;
	i0 = (ipa - s->ipa) / G4K;
	for (uint64_t k = 1; k < n; k++)
		if (s->pa[i0 + k] != s->pa[i0] + k * G4K)
			return -ERANGE;
	*pa = s->pa[i0];
	return 0;
}

/* Apply fn to each physically contiguous run of the backing of [ipa, ipa + size) (one slot). */
static int slot_runs(struct rk_vm *vm, const struct host_memslot *s, uint64_t ipa, uint64_t size,
		     int (*fn)(struct rk_host *, uint64_t, uint64_t))
{
	uint64_t i = (ipa - s->ipa) / G4K, end = i + size / G4K;
	int ret = 0;

	while (i < end) {
		uint64_t j = i + 1;
		while (j < end && s->pa[j] == s->pa[i] + (j - i) * G4K)
			j++;
		int r = fn(vm->host, s->pa[i], j - i);
		if (r && !ret)
			ret = r;
		i = j;
	}
	return ret;
}

static void slot_release(struct rk_vm *vm, struct host_memslot *s)
{
	struct rk_host *h = vm->host;
	/* NS memory the guest could write while it ran may hold its data */
	bool dirty =
		(vm->flags & VM_EVER_ACTIVE) && (vm->kind == RK_VM_NORMAL || (s->flags & RK_MEMSLOT_SHARED));

	for (uint64_t i = 0; i < s->size / G4K; i++) {
		uint64_t pa = s->pa[i];
		if (!pa)
			continue;
		switch (host_led_state(h, pa)) {
		case RK_GRANULE_HOST:
			if (dirty)
				host_led_dirty(h, pa, 1, true);
			host_pfree(h, pa, 1);
			break;
		case RK_GRANULE_LEAKED:
			break; /* never reused */
		default:
			/* still delegated or held by the RMM: the host cannot take it back */
			host_leak(h, pa, 1, 0, 0);
			break;
		}
	}
	free(s->pa);
	s->pa = NULL;
	free(s->shared);
	s->shared = NULL;
}

static int vm_add_memslot(struct rk_vm *vm, uint64_t ipa, uint64_t size, uint32_t flags)
{
	struct rk_host *h;
	struct host_memslot *s;
	uint64_t half, n;
	int ret;

	if (!vm)
		return -EINVAL;
	h = vm->host;
	ret = host_vm_check(vm, RK_OP_ADD_MEMSLOT, "rk_vm_add_memslot");
	if (ret)
		return ret;
	half = 1ULL << (vm->ipa_bits - 1);
	if (!size || (ipa | size) & (G4K - 1) || ipa + size < ipa || ipa + size > (1ULL << vm->ipa_bits) ||
	    (flags & ~RK_MEMSLOT_SHARED))
		return host_fail(h, -EINVAL, 0, 0,
				 "memory slot 0x%" PRIx64 "+0x%" PRIx64 " is not a valid range", ipa, size);
	if (vm->kind == RK_VM_NORMAL && (flags & RK_MEMSLOT_SHARED))
		return host_fail(h, -EINVAL, 0, 0,
				 "RK_MEMSLOT_SHARED is for realms: normal VM memory is all shared");
	if (vm->kind == RK_VM_REALM && (flags & RK_MEMSLOT_SHARED) && ipa < half)
		return host_fail(h, -EINVAL, 0, 0,
				 "a shared slot must be in the unprotected half (IPA >= 0x%" PRIx64 ")",
				 half);
	if (vm->kind == RK_VM_REALM && !(flags & RK_MEMSLOT_SHARED) && ipa + size > half)
		return host_fail(h, -EINVAL, 0, 0,
				 "a private slot must be in the protected half (IPA < 0x%" PRIx64 ")", half);
	for (uint32_t i = 0; i < vm->nslots; i++)
		if (ipa < vm->slots[i].ipa + vm->slots[i].size && vm->slots[i].ipa < ipa + size)
			return host_fail(h, -EEXIST, 0, 0,
					 "memory slot 0x%" PRIx64 "+0x%" PRIx64 " overlaps slot %u", ipa,
					 size, vm->slots[i].id);
	if (vm->nslots == vm->slots_cap) {
		uint32_t cap = vm->slots_cap ? vm->slots_cap * 2 : 4;
		struct host_memslot *v = realloc(vm->slots, cap * sizeof(*v));
		if (!v)
			return host_fail(h, -ENOMEM, 0, 0, "no memory for a memory slot");
		vm->slots = v;
		vm->slots_cap = cap;
	}
	s = &vm->slots[vm->nslots];
	memset(s, 0, sizeof(*s));
	s->ipa = ipa;
	s->size = size;
	s->flags = flags;
	s->id = vm->nslots;
	n = size / G4K;
	s->pa = calloc(n, sizeof(uint64_t));
	if (!s->pa)
		return host_fail(h, -ENOMEM, 0, 0, "no memory for a memory slot");
	/* guest-visible NS memory is zeroed; private realm memory is delegated (zero) first */
	unsigned int zero = (vm->kind == RK_VM_NORMAL || (flags & RK_MEMSLOT_SHARED)) ? PALLOC_ZERO : 0;
	for (uint64_t i = 0; i < n;) {
		uint64_t a = ipa + i * G4K, pa;
		if (!(a & (BLOCK_GRANULES * G4K - 1)) && n - i >= BLOCK_GRANULES &&
		    !host_palloc(h, BLOCK_GRANULES, BLOCK_GRANULES, RK_ROLE_MEMSLOT, vm->id, zero, &pa)) {
			for (uint64_t k = 0; k < BLOCK_GRANULES; k++)
				s->pa[i + k] = pa + k * G4K;
			i += BLOCK_GRANULES;
			continue;
		}
		if (host_palloc(h, 1, 1, RK_ROLE_MEMSLOT, vm->id, zero, &pa)) {
			slot_release(vm, s);
			return host_fail(h, -ENOMEM, 0, 0,
					 "no host memory for a 0x%" PRIx64 "-byte memory slot", size);
		}
		s->pa[i++] = pa;
	}
	vm->nslots++;
	return done(h, 0);
}

/* ---- populate and map ---- */

/*
 * A leaked granule is never reused: a slot page whose granule was leaked
 * (its undelegation failed) gets a new granule before it is mapped again, as
 * guest_memfd would allocate a new page for the gfn.
 */
static int slot_repair(struct rk_vm *vm, struct host_memslot *s, uint64_t ipa, uint64_t size)
{
	unsigned int zero = (vm->kind == RK_VM_NORMAL || (s->flags & RK_MEMSLOT_SHARED)) ? PALLOC_ZERO : 0;

	for (uint64_t i = (ipa - s->ipa) / G4K; i < (ipa - s->ipa + size) / G4K; i++) {
		uint64_t pa;

		if (host_led_state(vm->host, s->pa[i]) != RK_GRANULE_LEAKED)
			continue;
		if (host_palloc(vm->host, 1, 1, RK_ROLE_MEMSLOT, vm->id, zero, &pa))
			return host_fail(vm->host, -ENOMEM, 0, 0,
					 "no host memory to replace a leaked granule");
		s->pa[i] = pa;
	}
	return 0;
}

static int map_range(struct rk_vm *vm, uint64_t ipa, uint64_t size, const struct s2_src *src, int min_level);

/* The unprotected alias of private slot pages, as shared memory: zeroed if they may hold data. */
static int map_alias(struct rk_vm *vm, uint64_t ipa, uint64_t size, int min_level)
{
	struct rk_host *h = vm->host;
	uint64_t bit = 1ULL << (vm->ipa_bits - 1);
	struct host_memslot *s = host_memslot_find(vm, ipa & ~bit, size);
	int ret;

	if (vm->kind != RK_VM_REALM || !(ipa & bit) || !s || (s->flags & RK_MEMSLOT_SHARED))
		return host_fail(h, -EFAULT, 0, 0,
				 "0x%" PRIx64 "+0x%" PRIx64 " is not the alias of a private slot", ipa, size);
	ret = slot_repair(vm, s, ipa & ~bit, size);
	if (ret)
		return ret;
	for (uint64_t i = ((ipa & ~bit) - s->ipa) / G4K, n = 0; n < size / G4K; i++, n++) {
		uint64_t pa = s->pa[i];

		if (host_led_state(h, pa) != RK_GRANULE_HOST)
			return host_fail(h, -EBUSY, 0, 0,
					 "IPA 0x%" PRIx64 ": its granule is %s, not host memory",
					 (uint64_t)((ipa & ~bit) + n * G4K),
					 rk_granule_state_name(host_led_state(h, pa)));
		/* it may hold another VM's data (private slot memory is not zeroed until delegated) */
		if (host_ns_zero(h, pa, 1))
			return host_fail(h, -EIO, 0, 0, "cannot zero granule 0x%" PRIx64, pa);
	}
	ret = host_s2_map_alias(&vm->s2, ipa, size, min_level);
	if (!ret) {
		/* the guest may write it from now on */
		for (uint64_t i = ((ipa & ~bit) - s->ipa) / G4K, n = 0; n < size / G4K; i++, n++)
			host_led_dirty(h, s->pa[i], 1, true);
	}
	return ret;
}

int host_vm_map(struct rk_vm *vm, uint64_t ipa, uint64_t size, int min_level, bool alias)
{
	int ret = alias ? map_alias(vm, ipa, size, min_level) : map_range(vm, ipa, size, NULL, min_level);

	if (!ret)
		vm->flags |= VM_EVER_ACTIVE;
	return ret;
}

static int map_range(struct rk_vm *vm, uint64_t ipa, uint64_t size, const struct s2_src *src, int min_level)
{
	struct host_memslot *s = host_memslot_find(vm, ipa, size);
	bool private_realm;
	int ret;

	if (!s)
		return host_fail(vm->host, -EFAULT, 0, 0,
				 "0x%" PRIx64 "+0x%" PRIx64 " is not inside one memory slot", ipa, size);
	private_realm = vm->kind == RK_VM_REALM && !(s->flags & RK_MEMSLOT_SHARED);
	ret = slot_repair(vm, s, ipa, size);
	if (ret)
		return ret;
	if (src && vm->kind == RK_VM_REALM && !private_realm)
		return host_fail(vm->host, -EINVAL, 0, 0,
				 "populate is for private memory; write shared memory directly");
	ret = ensure_created(vm);
	if (ret)
		return ret;
	/* realm: delegate the destination granules up front, range by range */
	if (private_realm) {
		ret = slot_runs(vm, s, ipa, size, host_delegate_runs);
		if (!ret)
			ret = host_s2_map(&vm->s2, ipa, size, src, min_level);
		/* what was delegated and not mapped goes back to the slot */
		int r = slot_runs(vm, s, ipa, size, host_undelegate_runs);
		return ret ? ret : r;
	}
	return host_s2_map(&vm->s2, ipa, size, src, min_level);
}

static int vm_populate(struct rk_vm *vm, uint64_t ipa, const void *buf, size_t len, uint32_t flags)
{
	struct s2_src src;
	int ret;

	if (!vm)
		return -EINVAL;
	ret = host_vm_check(vm, RK_OP_POPULATE, "rk_vm_populate");
	if (ret)
		return ret;
	if (!buf || !len || (ipa & (G4K - 1)) || (flags & ~RK_POPULATE_MEASURE))
		return host_fail(vm->host, -EINVAL, 0, 0, "rk_vm_populate: bad arguments");
	memset(&src, 0, sizeof(src));
	src.buf = buf;
	src.ipa = ipa;
	src.len = len;
	src.measure = (flags & RK_POPULATE_MEASURE) != 0;
	return done(vm->host, map_range(vm, ipa, host_align_up(len, G4K), &src, S2_MAX_LEVEL));
}

static int range_ok(struct rk_vm *vm, uint64_t ipa, uint64_t size, const char *fn)
{
	if (!size || (ipa | size) & (G4K - 1) || ipa + size < ipa || ipa + size > (1ULL << vm->ipa_bits))
		return host_fail(vm->host, -EINVAL, 0, 0,
				 "%s: 0x%" PRIx64 "+0x%" PRIx64 " is not a valid range", fn, ipa, size);
	return 0;
}

static int vm_map(struct rk_vm *vm, uint64_t ipa, uint64_t size)
{
	int ret;

	if (!vm)
		return -EINVAL;
	ret = host_vm_check(vm, RK_OP_MAP, "rk_vm_map");
	if (!ret)
		ret = range_ok(vm, ipa, size, "rk_vm_map");
	if (!ret)
		ret = map_range(vm, ipa, size, NULL, S2_MIN_BLOCK_LEVEL);
	if (!ret && vm->state == RK_VM_ACTIVE)
		vm->flags |= VM_EVER_ACTIVE;
	return done(vm->host, ret);
}

static int vm_unmap(struct rk_vm *vm, uint64_t ipa, uint64_t size)
{
	int ret;

	if (!vm)
		return -EINVAL;
	ret = host_vm_check(vm, RK_OP_UNMAP, "rk_vm_unmap");
	if (!ret)
		ret = range_ok(vm, ipa, size, "rk_vm_unmap");
	if (!ret)
		ret = host_s2_unmap(&vm->s2, ipa, size);
	return done(vm->host, ret);
}

static int vm_fold(struct rk_vm *vm, uint64_t ipa, uint64_t size)
{
	int ret;

	if (!vm)
		return -EINVAL;
	ret = host_vm_check(vm, RK_OP_UNMAP, "rk_vm_fold");
	if (!ret)
		ret = range_ok(vm, ipa, size, "rk_vm_fold");
	if (!ret)
		ret = host_s2_fold(&vm->s2, ipa, size);
	return done(vm->host, ret);
}

static int vm_s2_dump(struct rk_vm *vm, uint64_t ipa, uint64_t size, rk_s2_dump_fn fn, void *arg)
{
	int ret;

	if (!vm || !fn)
		return -EINVAL;
	ret = host_vm_check(vm, RK_OP_UNMAP, "rk_vm_s2_dump");
	if (!ret)
		ret = range_ok(vm, ipa, size, "rk_vm_s2_dump");
	if (!ret)
		ret = host_s2_dump(&vm->s2, ipa, size, fn, arg);
	return done(vm->host, ret);
}

static int print_entry(void *arg, const struct rk_s2_entry *e)
{
	static const char *const kinds[] = { "table", "page", "block", "invalid" };
	FILE *f = arg;

	fprintf(f, "%*sL%d 0x%012" PRIx64 " %-7s -> 0x%012" PRIx64, 2 * (e->level + 1), "", e->level, e->ipa,
		kinds[e->kind & 3], e->pa);
	if (e->ripas >= 0 && e->kind != RK_S2_TABLE) /* a table has no RIPAS of its own */
		fprintf(f, " ripas %s",
			e->ripas == 0   ? "EMPTY"
			: e->ripas == 1 ? "RAM"
			: e->ripas == 2 ? "DESTROYED"
					: "?");
	fprintf(f, "%s\n", e->mismatch ? "  MISMATCH (shadow differs)" : "");
	return 0;
}

int rk_vm_s2_print(struct rk_vm *vm, FILE *f)
{
	if (!vm || !f)
		return -EINVAL;
	fprintf(f, "vm %u (%s) stage 2: %u-bit IPA, start level %d, %u root table(s) at 0x%" PRIx64 "\n",
		vm->id, vm->s2.ops->name, vm->ipa_bits, vm->s2.start_level, vm->s2.nroot, vm->s2.root_pa);
	return rk_vm_s2_dump(vm, 0, 1ULL << vm->ipa_bits, print_entry, f);
}

/* ---- vCPUs, activation, run ---- */

static int vcpu_create(struct rk_vm *vm, uint32_t id, const struct rk_vcpu_config *cfg)
{
	struct rk_host *h;
	struct rk_vcpu *v;
	int ret;

	if (!vm)
		return -EINVAL;
	h = vm->host;
	ret = host_vm_check(vm, RK_OP_VCPU_CREATE, "rk_vcpu_create");
	if (ret)
		return ret;
	if (id != vm->nvcpus)
		return host_fail(h, id < vm->nvcpus ? -EEXIST : -EINVAL, 0, 0,
				 "rk_vcpu_create: vCPU ids are dense (REC MPIDR order): next is %u, not %u",
				 vm->nvcpus, id);
	if (id >= HOST_MAX_VCPUS || (vm->kind == RK_VM_REALM && id >= h->caps.rmi_max_recs))
		return host_fail(h, -EINVAL, 0, 0, "rk_vcpu_create: vCPU %u exceeds rmi_max_recs %u", id,
				 h->caps.rmi_max_recs);
	if (vm->nvcpus == vm->vcpus_cap) {
		uint32_t cap = vm->vcpus_cap ? vm->vcpus_cap * 2 : 8;
		struct rk_vcpu **a = realloc(vm->vcpus, cap * sizeof(*a));
		if (!a)
			return host_fail(h, -ENOMEM, 0, 0, "no memory for a vCPU");
		vm->vcpus = a;
		vm->vcpus_cap = cap;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return host_fail(h, -ENOMEM, 0, 0, "no memory for a vCPU");
	v->vm = vm;
	v->id = id;
	if (cfg) {
		v->pc = cfg->pc;
		memcpy(v->gprs, cfg->gprs, sizeof(v->gprs));
		v->flags = cfg->flags & RK_VCPU_RUNNABLE;
	} else {
		v->flags = id == 0 ? RK_VCPU_RUNNABLE : 0;
	}
	v->on = (v->flags & RK_VCPU_RUNNABLE) != 0; /* the REC is created runnable or not */
	vm->vcpus[vm->nvcpus++] = v;
	return done(h, 0);
}

int host_vm_activate(struct rk_vm *vm)
{
	int ret = 0;

	if (vm->kind == RK_VM_REALM)
		ret = host_realm_activate(vm);
	else
		host_vm_set_state(vm, RK_VM_ACTIVE);
	if (!ret)
		vm->flags |= VM_EVER_ACTIVE;
	return ret;
}

static int vm_activate(struct rk_vm *vm)
{
	int ret;

	if (!vm)
		return -EINVAL;
	ret = host_vm_check(vm, RK_OP_ACTIVATE, "rk_vm_activate");
	if (!ret)
		ret = host_vm_activate(vm);
	return done(vm->host, ret);
}

/* ---- destroy ---- */

static int vm_destroy(struct rk_vm *vm)
{
	struct rk_host *h;
	uint64_t leaked;
	unsigned int failures = 0;
	int ret;

	if (!vm)
		return -EINVAL;
	h = vm->host;
	ret = host_vm_check(vm, RK_OP_DESTROY, "rk_vm_destroy");
	if (ret)
		return ret;
	pthread_mutex_lock(&vm->run.mtx);
	ret = vm->run.running ? -EBUSY : 0;
	pthread_mutex_unlock(&vm->run.mtx);
	if (ret)
		return host_fail(h, ret, 0, 0,
				 "rk_vm_destroy: vm %u has vCPUs running: stop them first (rk_vm_stop)",
				 vm->id);
	host_ok(h); /* the message at the end names this teardown's failures only */
	host_run_fini(vm);
	leaked = h->stats.granules_leaked;
	host_vm_set_state(vm, RK_VM_DYING);
	if (vm->kind == RK_VM_REALM) {
		failures = (unsigned int)host_realm_teardown(vm);
	} else {
		failures = host_s2_destroy(&vm->s2);
		vm->s2.ops->root_free(&vm->s2);
	}
	for (uint32_t i = 0; i < vm->nslots; i++)
		slot_release(vm, &vm->slots[i]);
	vm->nslots = 0;
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		host_blocks_free(&vm->vcpus[i]->aux);
		free(vm->vcpus[i]);
	}
	vm->nvcpus = 0;
	host_vm_set_state(vm, RK_VM_DEAD);
	leaked = h->stats.granules_leaked - leaked;
	if (leaked || failures)
		return host_fail(h, -EIO, h->err.fid, h->err.x0,
				 "teardown of vm %u: %u step(s) failed, %" PRIu64
				 " granule(s) leaked (last: %s -> %s)",
				 vm->id, failures, leaked, h->err.fid ? rk_rmi_command_name(h->err.fid) : "-",
				 h->err.fid ? rk_rmi_status_name(h->err.x0) : "-");
	return done(h, 0);
}

static void vm_free(struct rk_vm *vm)
{
	struct rk_vm **pp;

	if (!vm)
		return;
	if (vm->state != RK_VM_DEAD && vm->state != RK_VM_DYING)
		(void)rk_vm_destroy(vm);
	for (pp = &vm->host->vms; *pp; pp = &(*pp)->next) {
		if (*pp == vm) {
			*pp = vm->next;
			break;
		}
	}
	free(vm->slots);
	free(vm->vcpus);
	host_devices_free(vm);
	pthread_cond_destroy(&vm->run.cv);
	pthread_mutex_destroy(&vm->run.mtx);
	pthread_mutex_destroy(&vm->run.dev_mtx);
	pthread_mutex_destroy(&vm->run.exec_mtx);
	free(vm);
}

/* ---- queries ---- */

/* ---- queries (the host lock: a VM's fields change under it) ---- */

#define QLOCK(vm) host_lock(((struct rk_vm *)(vm))->host)
#define QUNLOCK(vm) host_unlock(((struct rk_vm *)(vm))->host)

enum rk_vm_state rk_vm_get_state(const struct rk_vm *vm)
{
	enum rk_vm_state st;

	QLOCK(vm);
	st = (enum rk_vm_state)vm->state;
	QUNLOCK(vm);
	return st;
}

enum rk_vm_kind rk_vm_get_kind(const struct rk_vm *vm)
{
	return (enum rk_vm_kind)vm->kind;
}

uint32_t rk_vm_id(const struct rk_vm *vm)
{
	return vm->id;
}

uint32_t rk_vm_ipa_bits(const struct rk_vm *vm)
{
	return vm->ipa_bits;
}

int rk_vm_rd(const struct rk_vm *vm, rk_rd_t *out)
{
	int ret = 0;

	if (!vm || !out)
		return -ENOENT;
	QLOCK(vm);
	if (vm->kind != RK_VM_REALM || !vm->realm.rd.pa)
		ret = -ENOENT;
	else
		*out = vm->realm.rd;
	QUNLOCK(vm);
	return ret;
}

int rk_vm_rim(const struct rk_vm *vm, uint8_t rim[64], size_t *len)
{
	int ret = 0;

	if (!vm || !rim)
		return -ENOENT;
	QLOCK(vm);
	if (vm->kind != RK_VM_REALM || vm->state == RK_VM_NONE) {
		ret = -ENOENT;
	} else if (vm->flags & VM_NO_RIM) {
		ret = -ENODATA;
	} else {
		memcpy(rim, vm->realm.rim, RK_MEASUREMENT_MAX);
		if (len)
			*len = rk_hash_len(vm->realm.hash_algo);
	}
	QUNLOCK(vm);
	return ret;
}

uint32_t rk_vm_rmm_realm_states(struct rk_vm *vm)
{
	uint32_t st;

	if (!vm || vm->kind != RK_VM_REALM)
		return 0;
	QLOCK(vm);
	st = host_realm_probe(vm);
	QUNLOCK(vm);
	return st;
}

/* ---- the public calls: each under the host lock ---- */

#define LOCKED_CALL(h, call)    \
	do {                    \
		int ret_;       \
		host_lock(h);   \
		ret_ = (call);  \
		host_unlock(h); \
		return ret_;    \
	} while (0)

int rk_vm_create(struct rk_host *h, const struct rk_vm_config *cfg, struct rk_vm **out)
{
	if (!h || !out)
		return -EINVAL;
	LOCKED_CALL(h, vm_create(h, cfg, out));
}

int rk_vm_realm_create(struct rk_vm *vm)
{
	if (!vm)
		return -EINVAL;
	LOCKED_CALL(vm->host, vm_realm_create(vm));
}

int rk_vm_add_memslot(struct rk_vm *vm, uint64_t ipa, uint64_t size, uint32_t flags)
{
	if (!vm)
		return -EINVAL;
	LOCKED_CALL(vm->host, vm_add_memslot(vm, ipa, size, flags));
}

int rk_vm_populate(struct rk_vm *vm, uint64_t ipa, const void *buf, size_t len, uint32_t flags)
{
	if (!vm)
		return -EINVAL;
	LOCKED_CALL(vm->host, vm_populate(vm, ipa, buf, len, flags));
}

int rk_vm_map(struct rk_vm *vm, uint64_t ipa, uint64_t size)
{
	if (!vm)
		return -EINVAL;
	LOCKED_CALL(vm->host, vm_map(vm, ipa, size));
}

int rk_vm_unmap(struct rk_vm *vm, uint64_t ipa, uint64_t size)
{
	if (!vm)
		return -EINVAL;
	LOCKED_CALL(vm->host, vm_unmap(vm, ipa, size));
}

int rk_vm_fold(struct rk_vm *vm, uint64_t ipa, uint64_t size)
{
	if (!vm)
		return -EINVAL;
	LOCKED_CALL(vm->host, vm_fold(vm, ipa, size));
}

int rk_vm_s2_dump(struct rk_vm *vm, uint64_t ipa, uint64_t size, rk_s2_dump_fn fn, void *arg)
{
	if (!vm || !fn)
		return -EINVAL;
	LOCKED_CALL(vm->host, vm_s2_dump(vm, ipa, size, fn, arg));
}

int rk_vcpu_create(struct rk_vm *vm, uint32_t id, const struct rk_vcpu_config *cfg)
{
	if (!vm)
		return -EINVAL;
	LOCKED_CALL(vm->host, vcpu_create(vm, id, cfg));
}

int rk_vm_activate(struct rk_vm *vm)
{
	if (!vm)
		return -EINVAL;
	LOCKED_CALL(vm->host, vm_activate(vm));
}

int rk_vm_destroy(struct rk_vm *vm)
{
	if (!vm)
		return -EINVAL;
	LOCKED_CALL(vm->host, vm_destroy(vm));
}

void rk_vm_free(struct rk_vm *vm)
{
	struct rk_host *h;

	if (!vm)
		return;
	h = vm->host;
	host_lock(h);
	vm_free(vm);
	host_unlock(h);
}
