/* Read another process's memory without ptrace: process_vm_readv on pid 1. Must be SV. */
#include "hostile.h"
#include <sys/uio.h>

int main(void) {
    char buf[64];
    struct iovec local = {buf, sizeof buf}, remote = {(void *)0x400000, sizeof buf};
    long rc = process_vm_readv(1, &local, 1, &remote, 1, 0);
    returned("process_vm_readv", rc);
    return 0;
}
