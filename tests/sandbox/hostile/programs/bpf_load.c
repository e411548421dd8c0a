/* eBPF: a verifier-bug playground and a kernel-memory reader. Must be SV "bpf". */
#include "hostile.h"
#include <linux/bpf.h>
#include <sys/syscall.h>

int main(void) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    long rc = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
    returned("bpf", rc);
    return 0;
}
