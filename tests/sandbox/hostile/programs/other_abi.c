/* Syscalls through another ABI bypass a filter that only knows x86_64 numbers: "int80" makes
 * an i386 call (int 0x80, eax=20 is getpid there), "x32" sets the x32 bit (0x40000000) on
 * getpid. Both must be SV, named "i386:getpid" and "x32:getpid". */
#include "hostile.h"

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "int80";
    long rc;
    if (!strcmp(mode, "x32"))
        __asm__ volatile("syscall" : "=a"(rc) : "a"(0x40000000L | 39) : "rcx", "r11", "memory");
    else
        __asm__ volatile("int $0x80" : "=a"(rc) : "a"(20L) : "memory");
    say("ESCAPED %s syscall returned %ld", mode, rc);
    return 0;
}
