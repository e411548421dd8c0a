/* Like spin_threads, with argv[1] processes: CPU must be summed over every process of the
 * box, so the spinning children cannot each take a full CPU limit. TLE. */
#include "hostile.h"
#include <stdlib.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 4;
    for (int i = 1; i < n; i++) {
        if (fork() == 0) break;
    }
    for (volatile unsigned long n = 0;; n++) {
    }
}
