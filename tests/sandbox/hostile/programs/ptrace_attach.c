/* Attach to pid 1 (the box's init, host root) with ptrace: with a tracer inside init, a
 * program could rewrite its memory. Must end the run: SV, blocked syscall "ptrace". */
#include "hostile.h"
#include <sys/ptrace.h>

int main(void) {
    long rc = ptrace(PTRACE_ATTACH, 1, 0, 0);
    returned("ptrace", rc);
    return 0;
}
