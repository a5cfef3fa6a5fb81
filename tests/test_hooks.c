/*
 * The hooks of src/fault.h, defined once for the test copy of the library
 * (coro_faulty), which reads them: no failure injected, and the guards the
 * kernel offers. A suite sets them before it makes its first coroutine.
 */
#include "fault.h"

unsigned long coro__fault_countdown;
bool coro__fault_mprotect_guards;
