/* Writes to stdout as fast as it can, forever. The supervisor must stop it at the output cap
 * (OLE) and never buffer more than the cap. */
#include "hostile.h"

int main(void) {
    static char buf[1 << 16];
    memset(buf, 'A', sizeof buf);
    for (;;) {
        if (write(1, buf, sizeof buf) < 0) return 1;
    }
}
