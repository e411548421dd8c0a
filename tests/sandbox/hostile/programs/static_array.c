/* A 1 GiB zero-initialised static array (.bss): no malloc to fail, the pages appear as they
 * are touched. MLE with oom_killed. */
#include "hostile.h"

static char big[1UL << 30];

int main(void) {
    /* volatile: the compiler may not drop stores to an array nobody reads. */
    volatile char *p = big;
    for (unsigned long i = 0; i < sizeof big; i += 4096) p[i] = 1;
    say("ESCAPED touched the whole array");
    return 0;
}
