/* Shared by the hostile programs: unbuffered reporting, so a line written just before the box
 * is killed still reaches the supervisor. Each program prints "ESCAPED ..." if an attack that
 * must fail succeeded; the tests look for that word. */
#ifndef HOSTILE_H
#define HOSTILE_H
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static inline void say(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof buf - 2) n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    ssize_t rc = write(1, buf, (size_t)n);
    (void)rc;
}

/* Report what a blocked syscall returned: reaching this line means it was not blocked. */
static inline void returned(const char *what, long rc) {
    say("ESCAPED %s returned %ld (%s)", what, rc, rc < 0 ? strerror(errno) : "success");
}
#endif
