/* perf_event_open: big attack surface, and sampling leaks kernel addresses. Must be SV. */
#include "hostile.h"
#include <linux/perf_event.h>
#include <sys/syscall.h>

int main(void) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.size = sizeof attr;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    long rc = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    returned("perf_event_open", rc);
    return 0;
}
