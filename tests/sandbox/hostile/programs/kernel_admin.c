/* Machine-wide calls: kernel modules, kexec, reboot, swap, clock. argv[1] names one; each
 * must be SV naming it. Arguments are chosen so that even a call that got through would
 * fail harmlessly (bad fds, an invalid reboot command). */
#include "hostile.h"
#include <sys/syscall.h>
#include <time.h>

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "finit_module";
    long rc;
    if (!strcmp(mode, "kexec_load"))
        rc = syscall(SYS_kexec_load, 0, 0, NULL, 0xdead0000UL);
    else if (!strcmp(mode, "reboot"))
        rc = syscall(SYS_reboot, 0xfee1dead, 0x28121969, 0xdeadbeef, NULL);
    else if (!strcmp(mode, "clock_settime")) {
        struct timespec ts = {0, 0};
        rc = syscall(SYS_clock_settime, 999, &ts);  /* invalid clock id */
    } else
        rc = syscall(SYS_finit_module, -1, "", 0);
    returned(mode, rc);
    return 0;
}
