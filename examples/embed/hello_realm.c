/* SPDX-License-Identifier: MIT */
/* Boot a machine, build a realm from a flat payload (loaded at 0x80000000,
 * e.g. build/guest/hello.bin), run it with its console on stdout, tear it down. */
#include <stdio.h>
#include <realmkit/guest_abi.h> /* the guest SDK's memory map: RAM, PL011 */
#include <realmkit/host.h>

static void console(void *arg, const char *buf, size_t len)
{
	(void)arg;
	fwrite(buf, 1, len, stdout);
}

int main(int argc, char **argv)
{
	static char img[2 << 20];
	FILE *f = argc == 2 ? fopen(argv[1], "rb") : NULL;
	size_t len = f ? fread(img, 1, sizeof(img), f) : 0;
	struct rk_machine_config mc;
	struct rk_vm_config vc;
	struct rk_vcpu_config cpu = { .pc = RK_GUEST_RAM_BASE, .flags = RK_VCPU_RUNNABLE };
	struct rk_machine *m = NULL;
	struct rk_host *h = NULL;
	struct rk_vm *vm = NULL;
	int err;

	if (f)
		fclose(f);
	if (len == 0)
		return fprintf(stderr, "usage: hello_realm PAYLOAD.bin\n"), 2;
	rk_machine_config_default(&mc);         /* 1 GiB of DRAM */
	rk_vm_config_default(&vc, RK_VM_REALM); /* SHA-256 */
	vc.ipa_bits = RK_GUEST_S2SZ;
	if (!(err = rk_machine_create(&mc, &m)) && !(err = rk_host_create(m, NULL, &h)) &&
	    !(err = rk_vm_create(h, &vc, &vm)) &&
	    !(err = rk_vm_add_memslot(vm, RK_GUEST_RAM_BASE, 16 << 20, 0)) &&
	    !(err = rk_vm_populate(vm, RK_GUEST_RAM_BASE, img, len, RK_POPULATE_MEASURE)) &&
	    !(err = rk_vcpu_create(vm, 0, &cpu)) &&
	    !(err = rk_vm_add_uart(vm, RK_GUEST_UART_IPA, console, NULL)) && !(err = rk_vm_run(vm, 60000)))
		err = rk_vm_destroy(vm);
	if (err)
		fprintf(stderr, "hello_realm: failed (%d): %s\n", err, h ? rk_host_last_error(h)->msg : "");
	else
		printf("hello_realm: the realm ran and switched off, nothing leaked\n");
	rk_vm_free(vm);
	rk_host_destroy(h);
	rk_machine_destroy(m);
	return err != 0;
}
