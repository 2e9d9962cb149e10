/* ldap_int — what the AD/LDAP connector's parts share: settings, the connection with its
 * bounded reconnects, entries read into connector objects, scope checks.
 * Memory: the connector owns its settings, its LDAP handle and a per-entry arena; messages
 * (*err) are malloc'd for the caller. */
#ifndef MVS_LDAP_INT_H
#define MVS_LDAP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <ldap.h>

#include "connectors/connector.h"
#include "connectors/shape.h"
#include "schema/buf.h"

enum lc_tls { LC_TLS_LDAPS = 0, LC_TLS_STARTTLS, LC_TLS_NONE };

struct connector {
  char *name;
  const shape *shape;
  bool ad;                  /* type ad: objectGUID anchors, DirSync, USN */
  char *url, *bind_dn, *password, *base, *ca_file;
  char **containers;        /* DNs searched (default: base) */
  char **container_keys;    /* their dn_key forms, for scope checks */
  size_t n_containers;
  enum lc_tls tls;
  int page_size, timeout, retries, member_chunk;
  bool delta_usn;           /* delta "usn" rather than "dirsync" */
  char **attrs;             /* attributes requested (NULL-terminated, with anchor, objectClass) */
  size_t n_attrs;
  bool all_attrs;           /* the rules name no attributes: every one is delivered */
  char **ref_attrs;         /* configured reference attributes (NULL-terminated) */
  char *type_filter;        /* the object types as a filter */
  char **dirsync_attrs;     /* attrs plus "name" (a rename or move brings it back) */
  LDAP *ld;                 /* NULL until connected */
  struct ldap_conncb deadline_cb; /* bounds the socket's reads and writes (conn.c) */
  mvs_arena *arena;         /* one entry's values, reset per entry */
  bool holds_sigpipe;       /* counted in lc_sigpipe_hold */
  conn_attr *av;            /* one entry's attributes (grown, reused) */
  size_t av_cap;
};

/* The most one entry may hold: its values in the arena (a group of about a million members,
 * DNs of ~80 bytes), and one LDAP message read (libldap would otherwise allocate whatever
 * length a server declares). */
#define LC_ENTRY_MAX ((size_t)256 << 20)

/* Internal return code: the connection dropped (the caller reconnects and retries). */
#define LC_ERR_DOWN 100

/* SIGPIPE ignored while a connector is open (counted; the old disposition comes back). */
void lc_sigpipe_hold(void);
void lc_sigpipe_release(void);
/* Return codes of an LDAP call that mean the connection is gone (a reconnect may help).
 * LDAP_TIMEOUT is not one: a deadline is an error, never retried. */
bool lc_is_down(int ldap_rc);
/* The CONN_* code of a failed call: CONN_ERR_TIMEOUT for LDAP_TIMEOUT, else CONN_ERR_IO. */
int lc_conn_code(int ldap_rc);
/* Connect and bind (a no-op when connected): the TCP connect, the TLS handshake and each
 * operation are bounded by `timeout`.  CONN_OK, or CONN_ERR_IO / CONN_ERR_TIMEOUT with *err. */
int lc_connect(connector *c, char **err);
void lc_disconnect(connector *c);
/* What a fresh connection's socket gets before anything is read (lc_connect's connect
 * callback): messages capped at LC_ENTRY_MAX, reads and writes bounded by `timeout`.
 * 0, or LDAP_CONNECT_ERROR. */
int lc_socket_prepare(const connector *c, Sockbuf *sb);
/* After an operation failed with a connection-down code: when *attempts < retries, wait a
 * little, reconnect and return 0 (retry the operation); else -1, with *lrc set to
 * LDAP_TIMEOUT when a reconnect ran into the deadline (which ends the retries). */
int lc_recover(connector *c, int *attempts, int *lrc);
/* "what: ldap_err2string(rc): server diagnostic" (malloc'd). */
char *lc_errmsg(connector *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* ldap_err2string(rc) plus the server's diagnostic, into out. */
void lc_result_text(connector *c, int rc, const char *matched_diag, buf *out);

/* Whether a DN lies in one of the configured containers. */
bool lc_in_scope(connector *c, const char *dn);

/* ---- entries into connector objects (entry.c) ---- */

/* How an entry's values are read. */
typedef enum lc_read_mode {
  LC_READ_WHOLE = 0, /* a whole object: ranged values are fetched to the end */
  LC_READ_DIRSYNC    /* DirSync changes: range=1-1 adds, range=0-0 removes, others replace */
} lc_read_mode;

typedef struct lc_entry {
  conn_object obj;     /* change left for the caller to set */
  bool deleted;        /* isDeleted TRUE (a tombstone) */
  bool named;          /* DirSync: objectClass or name came back (new, renamed or moved) */
} lc_entry;

/* The anchor's text of an anchor value (objectGUID's D form; entryUUID in lower case) into
 * out (GUID_TEXT_LEN + 1 bytes); -1 when the value cannot be one. */
int lc_anchor_text(connector *c, const struct berval *bv, char *out);
/* Read entry e into out (values in c->arena, reset first).  CONN_OK; CONN_ERR_DATA with *err
 * for an entry that cannot be an object (no anchor: reported, skipped by the caller); other
 * CONN_* codes when ranged retrieval failed. */
int lc_entry_read(connector *c, LDAPMessage *e, lc_read_mode mode, lc_entry *out, char **err);
/* Read one object by DN (base search with the type filter) as a whole object: CONN_OK with
 * *found; out as lc_entry_read. */
int lc_read_object(connector *c, const char *dn, lc_entry *out, bool *found, char **err);

/* ---- import (search.c: the paged search and entry delivery both imports use; import.c: full;
 * delta.c: DirSync or USN) ---- */

typedef struct lc_search {
  const char *base;
  int scope;
  const char *filter;
  LDAPControl **extra;   /* more server controls (Show Deleted), NULL-terminated or NULL */
} lc_search;

/* Paged search; fn gets each entry (continuation references are skipped).  A dropped
 * connection restarts the search (bounded retries; the entries seen are delivered again,
 * which an import tolerates).  fn returns CONN_OK to go on.  CONN_* with *err. */
int lc_paged(connector *c, const lc_search *s, int (*fn)(void *u, LDAPMessage *e), void *u,
             char **err);

int lc_import(connector *c, conn_import_mode mode, const char *watermark, const conn_sink *sink,
              char **new_watermark, char **err);
/* The watermark a full import leaves for the next delta: a DirSync cookie or the USN. */
int lc_delta_start(connector *c, const conn_sink *sink, char **watermark, char **err);
int lc_delta(connector *c, const char *watermark, const conn_sink *sink, char **new_watermark,
             char **err);
/* Deliver an entry as change ch; a bad entry is reported to the sink and skipped. */
int lc_deliver(connector *c, const conn_sink *sink, LDAPMessage *e, lc_read_mode mode,
               conn_change ch, char **err);

/* ---- export (export.c) ---- */

int lc_export(connector *c, const conn_export *changes, size_t n, const conn_export_env *env,
              conn_export_result *results, char **err);
/* connector_ops.value_taken: an escaped equality search under the base. */
int lc_value_taken(connector *c, const char *object_type, const char *attr, const char *value,
                   const char *except_anchor, bool *taken, char **err);

#endif
