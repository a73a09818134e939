#include "../platform.h"

#include <cstdlib>  // defines __GLIBC__ on glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace handoff::platform {

// glibc's malloc_trim also releases free pages in the middle of the heap (MADV_DONTNEED),
// not just its top. Other C libraries: nothing to do here.
void release_free_memory() {
#if defined(__GLIBC__)
  (void)malloc_trim(0);
#endif
}

}  // namespace handoff::platform
