/* Allocate and touch heap memory 1 MiB at a time, far past the limit. The kernel's OOM killer
 * must end it inside the box's memory cgroup: MLE with oom_killed. */
#include "hostile.h"
#include <stdlib.h>

int main(void) {
    for (int mib = 0; mib < 4096; mib++) {
        char *p = malloc(1 << 20);
        if (!p) {
            say("malloc failed at %d MiB", mib);
            return 1;
        }
        memset(p, 1, 1 << 20);
    }
    say("ESCAPED touched 4 GiB");
    return 0;
}
