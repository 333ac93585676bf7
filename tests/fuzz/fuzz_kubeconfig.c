/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_kubeconfig.c: kube_config_load() on any bytes as the kubeconfig
 * file (a temporary file per input, in /dev/shm when there is one). The result
 * must be a loaded configuration with a server, namespace and context,
 * or a filled error that names the file; never a crash, a leak or a
 * half-filled kube_config (a failed load leaves the old one untouched).
 */
#include <stdint.h>
#include <unistd.h>

#include "groved/kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kube_config c;
	gv_error_t err = GV_ERROR_INIT;
	char path[] = "/dev/shm/gv-fuzz-kubeconfig-XXXXXX";
	char alt[] = "/tmp/gv-fuzz-kubeconfig-XXXXXX";
	char *name = path;
	int fd = mkstemp(path);
	int rc = 0;

	if (fd < 0) {
		name = alt;
		fd = mkstemp(alt);
	}
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(name);
		return 0;
	}
	kube_config_init(&c);
	rc = kube_config_load(&c, name, NULL, &err);
	if (rc == GV_OK) {
		if (!c.server || !c.namespace || !c.context)
			__builtin_trap();
	} else {
		if (!err.text[0] || c.server)
			__builtin_trap();
	}
	kube_config_release(&c);
	close(fd);
	unlink(name);
	return 0;
}
