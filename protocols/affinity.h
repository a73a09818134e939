/* Affinity plugins: a plain C ABI, so one plugin source builds with any compiler on Linux
 * and Windows and the supervisor loads it with uv_dlopen.
 *
 * A plugin is a shared library that exports the four functions below. The supervisor
 * loads it at start-up (and on a reload that changes its path or config), checks
 * handoff_affinity_abi_version() == HANDOFF_AFFINITY_ABI_VERSION, calls create() for each
 * app that uses it, pick() for each connection (on the master's only thread: a plugin
 * needs no locks, and must not block), and destroy() when the app goes away. The config
 * check also creates and destroys one context first, so a bad config stops the start:
 * create() must not assume it runs once.
 *
 * Every pointer in a view is valid only during the call. Strings are not NUL-terminated
 * unless said; lengths are in bytes.
 */
#ifndef HANDOFF_AFFINITY_H
#define HANDOFF_AFFINITY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HANDOFF_AFFINITY_ABI_VERSION 1u

#if defined(_WIN32)
#define HANDOFF_AFFINITY_EXPORT __declspec(dllexport)
#else
#define HANDOFF_AFFINITY_EXPORT __attribute__((visibility("default")))
#endif

typedef struct handoff_string {
  const char* data;
  size_t length;
} handoff_string;

typedef struct handoff_header {
  handoff_string name; /* as sent; compare case-insensitively */
  handoff_string value;
} handoff_header;

typedef struct handoff_request_view {
  handoff_string method;         /* "GET" */
  handoff_string path;           /* "/chat/lobby", without the query */
  handoff_string query;          /* "a=1&b=2", without '?'; empty when none */
  const handoff_header* headers; /* in the order sent */
  size_t header_count;
  const uint8_t* client_address; /* 4 bytes (IPv4) or 16 (IPv6); PROXY protocol source if any */
  size_t client_address_length;
  handoff_string client_address_text; /* "203.0.113.7" */
  int client_port;
} handoff_request_view;

typedef struct handoff_slot_state {
  int ready;     /* non-zero: a worker of this slot takes connections now */
  uint32_t load; /* connections waiting for the slot plus those its worker reports open */
} handoff_slot_state;

typedef struct handoff_slot_view {
  size_t count;                     /* slots 1..count */
  const handoff_slot_state* slots;  /* slots[0] is slot 1 */
} handoff_slot_view;

typedef struct handoff_pick {
  /* 1..count: send the connection to that slot (it waits in the slot's queue if the slot
   * is down, like every affinity rule); 0: reject with `status`. */
  size_t slot;
  int status; /* an HTTP status from 400 to 599 when slot == 0 */
} handoff_pick;

/* Exported by the plugin. */
typedef uint32_t (*handoff_affinity_abi_version_fn)(void);
/* `config` is the string from the config file (may be empty). On failure return NULL and
 * write a NUL-terminated reason into error[0..error_size). */
typedef void* (*handoff_affinity_create_fn)(const char* config, size_t config_length, char* error, size_t error_size);
typedef handoff_pick (*handoff_affinity_pick_fn)(void* context, const handoff_request_view* request,
                                                 const handoff_slot_view* slots);
typedef void (*handoff_affinity_destroy_fn)(void* context);

#define HANDOFF_AFFINITY_SYMBOL_ABI_VERSION "handoff_affinity_abi_version"
#define HANDOFF_AFFINITY_SYMBOL_CREATE "handoff_affinity_create"
#define HANDOFF_AFFINITY_SYMBOL_PICK "handoff_affinity_pick"
#define HANDOFF_AFFINITY_SYMBOL_DESTROY "handoff_affinity_destroy"

#ifdef __cplusplus
}
#endif

#endif /* HANDOFF_AFFINITY_H */
