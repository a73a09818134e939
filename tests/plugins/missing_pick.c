/* A broken affinity plugin for tests: it exports everything but handoff_affinity_pick, so
 * the supervisor must refuse to start, naming the plugin and the missing symbol. */
#include <stdlib.h>

#include "protocols/affinity.h"

HANDOFF_AFFINITY_EXPORT uint32_t handoff_affinity_abi_version(void) { return HANDOFF_AFFINITY_ABI_VERSION; }

HANDOFF_AFFINITY_EXPORT void* handoff_affinity_create(const char* config, size_t config_length, char* error,
                                                      size_t error_size) {
  (void)config, (void)config_length, (void)error, (void)error_size;
  return malloc(1);
}

HANDOFF_AFFINITY_EXPORT void handoff_affinity_destroy(void* context) { free(context); }
