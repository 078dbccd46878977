#pragma once
namespace crm::common {
// Blocks until SIGTERM or SIGINT arrives (signals are blocked and waited for
// with sigwait, so no work happens inside a signal handler).
// Call BlockShutdownSignals() first thing in main, before threads start.
void BlockShutdownSignals();
int WaitForShutdownSignal();
}  // namespace crm::common
