/* fuzz_ldap — libFuzzer target for everything the AD connector reads from a server: search
 * entries (values typed, anchors, tombstones), ranged attributes fetched to the end, DirSync
 * incremental values and its response control (cookie), paged-results controls, the rootDSE
 * USN and invocationId, and the delta watermark.  The input is a server: libldap itself reads
 * it from a socket (ldap_init_fd), so the connector's real import runs, parsing real LDAP
 * messages; nothing of libldap is mocked.
 *   byte 0: bit 0 delta (else full import), bit 1 uSNChanged (else DirSync), bit 2 ranged
 *           member retrieval (range-size 2)
 *   delta:  the stored watermark, up to '\n'
 *   rest:   the server's LDAP messages (BER), answering requests with message ids 1, 2, ...
 * Invariants: an object delivered has an anchor and, unless deleted, a DN and attribute names;
 * an import that succeeds leaves a watermark of the configured kind.  Memory: per input. */
#include <openldap.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connectors/ldap/ldap_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);

/* libldap 2.5 drops a request record (LDAPRequest) without freeing it when a message cannot
 * be read; the connector never owns requests.  Matching its stack needs the slow unwinder
 * (libldap has no frame pointers). */
const char *__asan_default_options(void) { return "fast_unwind_on_malloc=0"; }
const char *__lsan_default_suppressions(void) { return "leak:ldap_send_server_request\n"; }

/* An unread request must never block the connector: the server side drains them. */
static void *drain(void *arg)
{
  char b[4096];
  int fd = *(int *)arg;
  while (read(fd, b, sizeof b) > 0)
    ;
  return NULL;
}

static int on_object(void *u, const conn_object *o)
{
  (void)u;
  if (!o->anchor || !o->anchor[0])
    abort(); /* an object without identity reached the engine */
  if (o->change != CONN_OBJ_DELETE && !o->dn)
    abort();
  for (size_t i = 0; i < o->n_attrs; i++)
    if (!o->attrs[i].name || !o->attrs[i].name[0] || strchr(o->attrs[i].name, ';'))
      abort(); /* options such as ";range=" are never part of a name */
  return 0;
}

static void on_error(void *u, const char *origin, const char *message)
{
  (void)u;
  if (!origin || !message)
    abort();
}

static void on_log(void *u, const char *message) { (void)u, (void)message; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *const attrs[] = {"sAMAccountName", "displayName", "member", "manager",
                                      "objectSid", "whenChanged", "userAccountControl"};
  static const char *const refs[] = {"member", "manager"};
  bool delta, usn;
  conn_setting set[] = {{"url", "ldap://fuzz.invalid"}, {"base", "DC=samba,DC=example,DC=com"},
                        {"tls", "none"},   {"retries", "0"},   {"timeout", "5"},
                        {"page-size", "2"}, {"delta", "dirsync"}, {"range-size", "0"}};
  conn_config cfg = {"ad", "ad", NULL, set, sizeof set / sizeof *set, attrs, 7, refs, 2,
                     "user,group", 0};
  conn_sink sink = {on_object, on_error, on_log, NULL, NULL};
  const connector_ops *ops = connector_find("ad");
  connector *c = NULL;
  char *wm = NULL, *new_wm = NULL, *err = NULL;
  const uint8_t *p = data + 1, *end = data + size;
  int sv[2] = {-1, -1}, v3 = LDAP_VERSION3, rc;
  pthread_t drainer;
  Sockbuf *sb = NULL;

  if (size < 1 || size > 1 << 16)
    return 0;
  delta = data[0] & 1;
  usn = data[0] & 2;
  set[6].value = usn ? "usn" : "dirsync";
  set[7].value = data[0] & 4 ? "2" : "0";
  if (delta) {
    const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl || !(wm = strndup((const char *)p, (size_t)(nl - p))))
      return 0;
    p = nl + 1;
  }
  if (ops->open(&cfg, &c, &err) != CONN_OK)
    abort();
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    abort();
  /* Everything the server says is sent before the connector asks (the socket holds 64 KB). */
  for (size_t off = 0; off < (size_t)(end - p);) {
    ssize_t k = write(sv[1], p + off, (size_t)(end - p) - off);
    if (k <= 0)
      abort();
    off += (size_t)k;
  }
  shutdown(sv[1], SHUT_WR);
  if (pthread_create(&drainer, NULL, drain, &sv[1]) != 0)
    abort();
  /* The connection as lc_connect leaves it: prepared as its connect callback does. */
  if (ldap_init_fd(sv[0], LDAP_PROTO_TCP, "ldap://fuzz.invalid", &c->ld) != LDAP_SUCCESS ||
      ldap_set_option(c->ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS ||
      ldap_get_option(c->ld, LDAP_OPT_SOCKBUF, &sb) != LDAP_OPT_SUCCESS ||
      lc_socket_prepare(c, sb) != 0)
    abort();
  rc = ops->import(c, delta ? CONN_IMPORT_DELTA : CONN_IMPORT_FULL, wm, &sink, &new_wm, &err);
  if (rc == CONN_OK &&
      (!new_wm || (strncmp(new_wm, "dirsync:", 8) != 0 && strncmp(new_wm, "usn:", 4) != 0) ||
       (delta && strncmp(new_wm, wm, 4) != 0)))
    abort(); /* a successful import leaves the next delta's starting point, of the same kind */
  if (rc != CONN_OK && !err && rc != CONN_ERR_NOMEM)
    abort(); /* every failure says why */
  ops->close(c); /* unbinds: closes sv[0], which ends the drainer */
  pthread_join(drainer, NULL);
  close(sv[1]);
  free(wm);
  free(new_wm);
  free(err);
  return 0;
}
