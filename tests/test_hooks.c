/*
 * The hooks of src/test_hooks.h, defined once for the test copy of the library
 * (coro_testhooks), which reads them: no failure injected, and the guards the
 * kernel offers. A suite sets them before it makes its first coroutine.
 */
#include "test_hooks.h"

unsigned long coro__fault_countdown;
bool coro__test_force_mprotect_guards;
bool coro__test_force_populate_by_touch;
