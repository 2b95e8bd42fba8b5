// Peak resident memory of the process, for tests that bound the memory a reader
// keeps (Linux: VmHWM in /proc/self/status; writing "5" to
// /proc/self/clear_refs resets it).
#ifndef ELM_BASE_PEAK_MEMORY_H_
#define ELM_BASE_PEAK_MEMORY_H_

#include <cstdint>

namespace elm {

// Peak resident memory of this process in bytes, or -1 when unknown.
int64_t PeakRss();

// Resets the peak to the current resident size; false when not possible.
bool ResetPeakRss();

}  // namespace elm

#endif  // ELM_BASE_PEAK_MEMORY_H_
