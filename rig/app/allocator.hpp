// The allocator settings of a long-running rigd (and of the benchmarks that measure it).
#pragma once
#include <malloc.h>

namespace rig::app {

// glibc's defaults hand freed memory back to the kernel at once (a heap top over 128 KiB is
// trimmed; big blocks are mmapped and unmapped), so every unit's records are faulted in again,
// page by page, on the io thread: a 1,000-step plan cost 1.29 us a step instead of 0.65. rigd
// is a daemon of ~21 MiB at 64 nests: keep up to 32 MiB of freed memory, and serve blocks under
// 4 MiB from the heap.
inline void keep_freed_memory() {
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
}

}  // namespace rig::app
