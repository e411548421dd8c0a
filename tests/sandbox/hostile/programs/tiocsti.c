/* TIOCSTI pushes keystrokes into a terminal's input queue: a box holding the supervisor's tty
 * could type commands into the host shell. "plain" uses the real request number; "highbits"
 * sets junk in the upper 32 bits, which the kernel ignores (cmd is an unsigned int) but a
 * filter comparing all 64 bits would not. Both must be SV "ioctl". */
#include "hostile.h"
#include <sys/ioctl.h>
#include <sys/syscall.h>

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "plain";
    unsigned long cmd = TIOCSTI;
    if (!strcmp(mode, "highbits")) cmd |= 0xdead000000000000UL;
    char c = 'x';
    for (int fd = 0; fd < 3; fd++) {
        long rc = syscall(SYS_ioctl, fd, cmd, &c);
        returned("ioctl TIOCSTI", rc);
    }
    return 0;
}
