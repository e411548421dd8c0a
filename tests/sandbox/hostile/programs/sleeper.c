/* Uses no CPU at all: sleeps. Only the wall-clock limit can end it. TLE (wall). */
#include "hostile.h"

int main(void) {
    sleep(600);
    say("ESCAPED slept through");
    return 0;
}
