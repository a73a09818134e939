/* A broken affinity plugin for tests: complete, but built for an ABI version this
 * supervisor does not speak, so the supervisor must refuse to start and say so. */
#include <stdlib.h>

#include "protocols/affinity.h"

HANDOFF_AFFINITY_EXPORT uint32_t handoff_affinity_abi_version(void) { return HANDOFF_AFFINITY_ABI_VERSION + 1; }

HANDOFF_AFFINITY_EXPORT void* handoff_affinity_create(const char* config, size_t config_length, char* error,
                                                      size_t error_size) {
  (void)config, (void)config_length, (void)error, (void)error_size;
  return malloc(1);
}

HANDOFF_AFFINITY_EXPORT handoff_pick handoff_affinity_pick(void* context, const handoff_request_view* request,
                                                          const handoff_slot_view* slots) {
  (void)context, (void)request, (void)slots;
  return (handoff_pick){1, 0};
}

HANDOFF_AFFINITY_EXPORT void handoff_affinity_destroy(void* context) { free(context); }
