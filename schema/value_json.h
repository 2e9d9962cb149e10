/* value_json — JSON text <-> typed values: the JSON form of values the engine prints (diff,
 * dump, preview), the CLI reads (`mvsync expr --object`) and the tests use.  Below the engine
 * (library mvs_json, on yajl); strings are escaped by json_str.h.
 * Memory: parsed values live in the arena passed in; rendered JSON is appended to a buf. */
#ifndef MVS_VALUE_JSON_H
#define MVS_VALUE_JSON_H

#include "schema/buf.h"
#include "schema/value.h"

/* JSON forms: string, integer, true/false, null, array (multi-valued), and tagged objects
 * {"binary":"hex"}, {"datetime":"ISO 8601"}, {"ref":"DN"}.  Returns 0, or -1 with err set. */
int value_json_parse(mvs_arena *a, const char *json, size_t n, mvs_value *out, char *err,
                     size_t errlen);

typedef struct value_json_field {
  const char *name;
  mvs_value v;
} value_json_field;

/* A JSON object of name -> value; fields and names live in the arena. */
int value_json_parse_object(mvs_arena *a, const char *json, size_t n,
                            value_json_field **fields, size_t *count, char *err,
                            size_t errlen);

/* Append v as JSON (the inverse of value_json_parse).  AuthoritativeNull and IgnoreThisFlow
 * render as null: callers report them separately. */
int value_json_write(buf *b, mvs_value v);

#endif
