/* chat_affinity: the affinity plugin of the chat example (protocols/affinity.h).
 *
 * The room is the path segment after "/chat/": "/chat/lobby" and "/chat/lobby/info" are
 * room "lobby". A room lives in one worker's memory, so every connection to it must reach
 * the same slot:
 *   - rooms named in the config string go to the slot given there ("lobby=1,vip=2"), to
 *     keep hot rooms apart; a pinned slot beyond the current count falls back to the hash;
 *   - every other room goes to jump consistent hash of XXH64 (seed 0) of its name, exactly
 *     as the built-in `url_segment` rule maps keys (protocols/consistent_hash.cpp),
 *     so growing from N to N+1 workers moves about 1/(N+1) of the rooms;
 *   - anything else (no "/chat/" prefix, an empty room name) is refused with 404.
 *
 * pick() runs on the master's only thread for every connection: it allocates nothing and
 * does not block. The pins live in a fixed table inside the context.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "protocols/affinity.h"

#define MAX_PINS 64
#define MAX_ROOM_LENGTH 64
#define MAX_PINNED_SLOT 4096 /* the config schema's bound on `workers` */

static const char kPrefix[] = "/chat/";
#define PREFIX_LENGTH (sizeof kPrefix - 1)

typedef struct pin {
  char room[MAX_ROOM_LENGTH];
  size_t length;
  size_t slot; /* 1-based */
} pin;

typedef struct chat_affinity {
  pin pins[MAX_PINS];
  size_t pin_count;
} chat_affinity;

/* Lamping & Veach's jump consistent hash; the same arithmetic as the supervisor's
 * handoff::jump_hash, so both agree on every key. */
static uint32_t jump_hash(uint64_t key, uint32_t buckets) {
  int64_t bucket = -1;
  int64_t next = 0;
  while (next < (int64_t)buckets) {
    bucket = next;
    key = key * 2862933555777941757ULL + 1;
    next = (int64_t)((double)(bucket + 1) * ((double)(1LL << 31) / (double)((key >> 33) + 1)));
  }
  return (uint32_t)bucket;
}

/* Room names as they appear in a path segment: printable ASCII without '/', '?', '#',
 * and without the config string's separators, so every room that can be pinned can be
 * written down and reached. */
static int is_room_char(char c) {
  return c > ' ' && c < 0x7f && c != '/' && c != '?' && c != '#' && c != ',' && c != '=';
}

static int fail(char* error, size_t error_size, const char* message) {
  if (error && error_size > 0) snprintf(error, error_size, "%s", message);
  return 0;
}

static int fail_entry(char* error, size_t error_size, const char* entry, size_t length, const char* message) {
  if (error && error_size > 0) snprintf(error, error_size, "pin \"%.*s\": %s", (int)length, entry, message);
  return 0;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* One "room=slot" entry in [p, end), blanks allowed around either side. */
static int parse_pin(const char* p, const char* end, pin* out, char* error, size_t error_size) {
  const char* entry = p;
  const size_t entry_length = (size_t)(end - p);
  const char* bad_slot = "the slot must be a number from 1 to 4096";
  while (p < end && is_blank(*p)) ++p;
  while (end > p && is_blank(end[-1])) --end;
  const char* equals = memchr(p, '=', (size_t)(end - p));
  if (!equals) return fail_entry(error, error_size, entry, entry_length, "expected ROOM=SLOT");
  const char* room_end = equals;
  while (room_end > p && is_blank(room_end[-1])) --room_end;
  const size_t room_length = (size_t)(room_end - p);
  if (room_length == 0) return fail_entry(error, error_size, entry, entry_length, "the room name is empty");
  if (room_length >= MAX_ROOM_LENGTH)
    return fail_entry(error, error_size, entry, entry_length, "the room name is longer than 63 bytes");
  for (const char* c = p; c < room_end; ++c)
    if (!is_room_char(*c))
      return fail_entry(error, error_size, entry, entry_length,
                        "the room name may only have printable ASCII other than / ? # , =");
  const char* digit = equals + 1;
  while (digit < end && is_blank(*digit)) ++digit;
  if (digit == end || *digit == '0') return fail_entry(error, error_size, entry, entry_length, bad_slot);
  size_t slot = 0;
  for (; digit < end; ++digit) {
    if (*digit < '0' || *digit > '9') return fail_entry(error, error_size, entry, entry_length, bad_slot);
    slot = slot * 10 + (size_t)(*digit - '0');
    if (slot > MAX_PINNED_SLOT) return fail_entry(error, error_size, entry, entry_length, bad_slot);
  }
  memcpy(out->room, p, room_length);
  out->room[room_length] = '\0';
  out->length = room_length;
  out->slot = slot;
  return 1;
}

static const pin* find_pin(const chat_affinity* self, const char* room, size_t length) {
  for (size_t i = 0; i < self->pin_count; ++i)
    if (self->pins[i].length == length && memcmp(self->pins[i].room, room, length) == 0) return &self->pins[i];
  return NULL;
}

/* The config: empty or blank (no pins), or comma-separated "room=slot" entries. */
static int parse_config(chat_affinity* self, const char* config, size_t length, char* error, size_t error_size) {
  if (!config || length == 0) return 1;
  const char* end = config + length;
  const char* first = config;
  while (first < end && is_blank(*first)) ++first;
  if (first == end) return 1;
  if (memchr(config, '\0', length)) return fail(error, error_size, "the config string has a NUL byte");
  for (const char* p = config;;) {
    const char* comma = memchr(p, ',', (size_t)(end - p));
    const char* entry_end = comma ? comma : end;
    if (self->pin_count == MAX_PINS) return fail(error, error_size, "more than 64 pinned rooms");
    pin* next = &self->pins[self->pin_count];
    if (!parse_pin(p, entry_end, next, error, error_size)) return 0;
    if (find_pin(self, next->room, next->length))
      return fail_entry(error, error_size, p, (size_t)(entry_end - p), "this room is pinned twice");
    ++self->pin_count;
    if (!comma) return 1;
    p = comma + 1;
  }
}

HANDOFF_AFFINITY_EXPORT uint32_t handoff_affinity_abi_version(void) { return HANDOFF_AFFINITY_ABI_VERSION; }

HANDOFF_AFFINITY_EXPORT void* handoff_affinity_create(const char* config, size_t config_length, char* error,
                                                      size_t error_size) {
  chat_affinity* self = calloc(1, sizeof *self);
  if (!self) {
    fail(error, error_size, "out of memory");
    return NULL;
  }
  if (!parse_config(self, config, config_length, error, error_size)) {
    free(self);
    return NULL;
  }
  return self;
}

HANDOFF_AFFINITY_EXPORT handoff_pick handoff_affinity_pick(void* context, const handoff_request_view* request,
                                                          const handoff_slot_view* slots) {
  const handoff_pick not_found = {0, 404};
  if (!context || !request || !slots || slots->count == 0) return (handoff_pick){0, 503};
  const chat_affinity* self = context;
  const char* path = request->path.data;
  const size_t length = request->path.length;
  if (!path || length <= PREFIX_LENGTH || memcmp(path, kPrefix, PREFIX_LENGTH) != 0) return not_found;
  const char* room = path + PREFIX_LENGTH;
  const char* slash = memchr(room, '/', length - PREFIX_LENGTH);
  const size_t room_length = slash ? (size_t)(slash - room) : length - PREFIX_LENGTH;
  if (room_length == 0) return not_found;

  const pin* pinned = find_pin(self, room, room_length);
  if (pinned && pinned->slot <= slots->count) return (handoff_pick){pinned->slot, 0};
  const uint32_t buckets = slots->count > UINT32_MAX ? UINT32_MAX : (uint32_t)slots->count;
  return (handoff_pick){(size_t)jump_hash(XXH64(room, room_length, 0), buckets) + 1, 0};
}

HANDOFF_AFFINITY_EXPORT void handoff_affinity_destroy(void* context) { free(context); }
