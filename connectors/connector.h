/* connector — the one interface between the engine and a connected directory (file, LDAP,
 * Graph): import objects, export changes.  Memory: objects passed to an import sink live
 * only during the callback (the sink copies what it keeps); strings a connector returns
 * (watermarks, errors) are malloc'd and owned by the caller. */
#ifndef MVS_CONNECTOR_H
#define MVS_CONNECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/value.h"

/* ---- configuration: plain key/value settings, secrets already resolved ---- */

typedef struct conn_setting {
  const char *key;
  const char *value;   /* text; numbers and booleans as written */
} conn_setting;

typedef struct conn_config {
  const char *name;          /* the connector's name in the rule set */
  const char *type;          /* "file", "ad", "ldap", "entra" */
  const char *shape;         /* data shape: "ad", "ldap" or "entra" (file connectors) */
  const conn_setting *settings;
  size_t n_settings;
  /* Attributes the rule set reads or writes for this connector (plus anchors): connectors
   * request only these where the protocol allows (LDAP attribute lists, Graph $select). */
  const char *const *attrs;
  size_t n_attrs;
  /* Which of those are references (member, manager, members): values are DNs or ids. */
  const char *const *ref_attrs;
  size_t n_ref_attrs;
  const char *object_types_csv;   /* object types to import ("user,group,contact"); NULL all */
  /* When the whole run must end (`--timeout`): CLOCK_MONOTONIC milliseconds, 0 for none.
   * A connector bounds its own waits (connects, requests, retries) by it. */
  int64_t deadline_ms;
} conn_config;

/* Look up a setting; NULL when absent. */
const char *conn_config_get(const conn_config *c, const char *key);
/* Milliseconds left before the run's deadline (0 once passed); -1 when there is none. */
int64_t conn_config_remaining_ms(const conn_config *c);

/* ---- import ---- */

typedef enum conn_change {
  CONN_OBJ_FULL = 0,   /* full import: the complete object as it is now */
  CONN_OBJ_ADD,        /* delta: a new object (complete) */
  CONN_OBJ_UPDATE,     /* delta: only the attributes listed changed */
  CONN_OBJ_DELETE      /* delta: the object is gone (anchor set; dn may be) */
} conn_change;

typedef enum conn_attr_op {
  CONN_ATTR_REPLACE = 0,  /* the attribute's values are now exactly these (none = cleared) */
  CONN_ATTR_ADD,          /* delta: these values were added (member incremental values) */
  CONN_ATTR_DELETE        /* delta: these values were removed */
} conn_attr_op;

typedef struct conn_attr {
  const char *name;
  conn_attr_op op;
  mvs_value value;        /* single or multi-valued; references are MVS_V_REF (DN or id) */
} conn_attr;

typedef struct conn_object {
  conn_change change;
  const char *anchor;     /* stable identity: objectGUID string, Graph id, entryUUID */
  const char *dn;         /* DN (directories) or display key (Graph); may be NULL on delete */
  const char *object_type;/* "user", "group", "contact", ... */
  const conn_attr *attrs;
  size_t n_attrs;
  /* Where the object came from, for error messages: "file:line" or a URL. */
  const char *origin;
} conn_object;

/* An object the engine holds for a connector (conn_sink.lookup): its identity.  The strings
 * belong to the sink and live until its next call. */
typedef struct conn_found {
  const char *anchor;
  const char *dn;
  const char *object_type;
} conn_found;

/* The engine's receiver of imported objects.  Return 0 to go on, nonzero to stop the import
 * (the connector then returns CONN_ERR_ABORTED). */
typedef struct conn_sink {
  int (*object)(void *u, const conn_object *o);
  /* A bad object the connector could not read: reported, the import goes on. */
  void (*object_error)(void *u, const char *origin, const char *message);
  /* Progress and notices for the run log ("cookie rejected: running a full import"). */
  void (*log)(void *u, const char *message);
  void *u;
  /* Optional (NULL: not offered).  The object of this connector that the directory held as
   * the engine last imported it (present, not marked deleted: an object mvsync provisioned
   * that no import has confirmed is not one), found by DN compared as case-folded text (each
   * code point lower-cased), or by anchor (exactly) when dn is NULL.  Fills *out (strings
   * the sink owns, valid until its next call).  1 found, 0 not found, -1 error.  A delta
   * import uses it to know what the objects it changes were, without reading the whole
   * directory; it must ask before delivering anything (deliveries change the answers). */
  int (*lookup)(void *u, const char *dn, const char *anchor, conn_found *out);
} conn_sink;

typedef enum conn_import_mode { CONN_IMPORT_FULL = 0, CONN_IMPORT_DELTA } conn_import_mode;

/* ---- export ---- */

typedef enum conn_export_op {
  CONN_EXPORT_ADD = 0,
  CONN_EXPORT_UPDATE,
  CONN_EXPORT_DELETE,
  CONN_EXPORT_RENAME      /* new_dn set; may come with attribute changes */
} conn_export_op;

typedef struct conn_export {
  conn_export_op op;
  const char *anchor;     /* NULL for an add (the directory assigns it) */
  const char *dn;         /* current DN (for an add: the DN to create) */
  const char *new_dn;     /* RENAME: the new DN */
  const char *object_type;
  const conn_attr *attrs; /* value-level changes (REPLACE / ADD / DELETE) */
  size_t n_attrs;
  /* ADD: an earlier attempt was sent and its outcome never recorded (a crash, a deadline):
   * the object may exist.  The connector looks it up (by what the add would create) and
   * takes it, anchor included, instead of creating it twice. */
  bool maybe_created;
} conn_export;

/* What the engine offers an export beside the changes (a connector may ignore it; any field
 * may be NULL): its lookup of this connector's objects, as conn_sink.lookup says (the answers
 * follow what the engine records of each batch's results), and the watermark of the
 * connector's last import.  The file connector checks changes against these instead of
 * reading the whole directory. */
typedef struct conn_export_env {
  int (*lookup)(void *u, const char *dn, const char *anchor, conn_found *out);
  void *u;
  const char *watermark;
} conn_export_env;

typedef struct conn_export_result {
  int ok;                 /* 1 when the directory accepted the change */
  char *anchor;           /* ADD: the new object's anchor when known (malloc'd), else NULL */
  int code;               /* protocol result code (LDAP resultCode, HTTP status) on failure */
  char *message;          /* failure text (malloc'd), else NULL */
} conn_export_result;

/* ---- the interface ---- */

enum {
  CONN_OK = 0,
  CONN_ERR_CONFIG = 1,    /* bad or missing settings */
  CONN_ERR_IO = 2,        /* the directory cannot be reached / read; nothing was imported */
  CONN_ERR_DATA = 3,      /* malformed input (file:line in the message); import failed */
  CONN_ERR_ABORTED = 4,   /* the sink asked to stop */
  CONN_ERR_WATERMARK = 5, /* the delta watermark was rejected: run a full import */
  CONN_ERR_NOMEM = 6,
  CONN_ERR_TIMEOUT = 7    /* a deadline passed (a server gave no answer in time, or the run's
                           * retry budget ran out); the message names the server */
};

typedef struct connector connector;

typedef struct connector_ops {
  const char *type;
  /* Validate the config and prepare; *err (malloc'd) explains a failure. */
  int (*open)(const conn_config *cfg, connector **out, char **err);
  /* Import.  `watermark` is the previous run's (NULL for none); on success *new_watermark
   * is what the next delta import starts from (malloc'd, may be NULL). */
  int (*import)(connector *c, conn_import_mode mode, const char *watermark,
                const conn_sink *sink, char **new_watermark, char **err);
  /* Send n changes; results[i] says how change i fared.  Returns CONN_OK when every change
   * was attempted (individual failures are in results), else a connector-wide error. */
  int (*export)(connector *c, const conn_export *changes, size_t n, const conn_export_env *env,
                conn_export_result *results, char **err);
  void (*close)(connector *c);
  /* SelectUniqueValue asks the directory itself (read-only; a dry run asks too): *taken is
   * true when an object other than except_anchor (NULL: none excepted) holds value in attr,
   * compared as the directory compares (an equality filter).  object_type is the target
   * object's type ("user", "group": Graph searches that collection; a directory searches
   * its whole base, as AD keeps sAMAccountName unique across types).  NULL: the connector
   * cannot be asked.  CONN_OK, or a CONN_ERR_* code with *err. */
  int (*value_taken)(connector *c, const char *object_type, const char *attr, const char *value,
                     const char *except_anchor, bool *taken, char **err);
} connector_ops;

/* The registered connector types; NULL when unknown. */
const connector_ops *connector_find(const char *type);

#endif
