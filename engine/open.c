/* open — engine_open and engine_close: open a store with a rule set, load *.rules files,
 * check them, compile the view the sync needs (rules per connector by precedence, join-key
 * attributes), hash the set; and free it all.  The context's helpers are engine_int.c's.
 * Memory: see engine_int.h; everything is freed by engine_close. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/connect.h"
#include "engine/diff.h"
#include "engine/engine_int.h"
#include "engine/rule_files.h"
#include "schema/array.h"

/* ---- loading the rule set ---- */

static int load_rules(mvs_engine *e, const char *path)
{
  rule_files files = {0};
  rule_diags d;
  time_t now = time(NULL);
  struct tm tm;
  int rc;

  rule_diags_init(&d);
  if (!(e->rs = rule_set_new()))
    return ENGINE_SYSTEM;
  if ((rc = rule_files_add(&files, path, e->errmsg, sizeof e->errmsg)) == RULE_FILES_OK)
    rc = rule_files_parse(&files, e->rs, &d, e->errmsg, sizeof e->errmsg);
  if (rc != RULE_FILES_OK) {
    rc = rc == RULE_FILES_NOMEM ? ENGINE_SYSTEM : ENGINE_INVALID;
    goto out;
  }
  gmtime_r(&now, &tm);
  if (rule_set_check(e->rs, (rule_date){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday}, &d) ==
      RULE_NOMEM) {
    rc = ENGINE_SYSTEM;
    goto out;
  }
  rc = ENGINE_OK;
  if (d.n_errors) {
    buf b;
    buf_init(&b, 0);
    rule_diags_sort(&d);
    rule_diags_format(&d, &b);
    engine_errorf(e, "the rule set has errors:\n%s", b.p ? b.p : "");
    buf_free(&b);
    rc = ENGINE_INVALID;
  }
out:
  rule_files_free(&files);
  rule_diags_free(&d);
  return rc;
}

/* ---- compiling the view of the rules ---- */

/* The join-key attributes: of a connector's space, of the metaverse. */
static int add_key_attr(conn_info *c, const char *name)
{
  c->key_bits |= attr_name_bit(name, strlen(name));
  return engine_name_add(&c->key_attrs, &c->n_key_attrs, &c->cap_key_attrs, name);
}

static int add_mv_key_attr(mvs_engine *e, const char *name)
{
  return engine_name_add(&e->mv_key_attrs, &e->n_mv_key_attrs, &e->cap_mv_key_attrs, name);
}

static int add_rule(const rule ***v, size_t *n, size_t *cap, const rule *r)
{
  const rule **nv;
  size_t i;
  if (array_reserve(v, cap, *n + 1, sizeof **v) != 0)
    return -1;
  nv = *v;
  /* Insertion by precedence; equal precedences keep file order. */
  for (i = *n; i > 0 && nv[i - 1]->precedence > r->precedence; i--)
    nv[i] = nv[i - 1];
  nv[i] = r;
  (*n)++;
  return 0;
}

/* The groups a rule's ISMEMBEROF / ISNOTMEMBEROF clauses name, folded like cs dn_key. */
static int add_member_groups(conn_info *c, const rule *r)
{
  size_t g, k;
  for (g = 0; g < r->n_scope; g++)
    for (k = 0; k < r->scope[g].n_clauses; k++) {
      const scope_clause *sc = &r->scope[g].clauses[k];
      buf key;
      if ((sc->op != SCOPE_ISMEMBEROF && sc->op != SCOPE_ISNOTMEMBEROF) || !sc->n_values)
        continue;
      buf_init(&key, BUF_CAP_DN);
      if (text_fold(sc->values[0].text, sc->values[0].len, &key) != 0 ||
          array_reserve(&c->member_groups, &c->cap_member_groups, c->n_member_groups + 1,
                        sizeof *c->member_groups) != 0) {
        buf_free(&key);
        return -1;
      }
      if (!(c->member_groups[c->n_member_groups] = key.p ? buf_detach(&key) : strdup("")))
        return -1;
      c->n_member_groups++;
    }
  return 0;
}

static void out_read_bit(void *u, const char *name, size_t n)
{
  *(uint64_t *)u |= attr_name_bit(name, n);
}

/* What an outbound rule reads of a metaverse object (e->out_read_bits) and writes to its
 * connector (c->out_target_bits): a delta sync evaluates a metaverse object outbound only
 * when a change can reach an export (sync_in.c). */
static void note_outbound(mvs_engine *e, conn_info *c, const rule *r)
{
  size_t g, k;
  c->out_target_bits |= attr_name_bit("dn", 2);
  for (g = 0; g < r->n_scope; g++)
    for (k = 0; k < r->scope[g].n_clauses; k++)
      out_read_bit(&e->out_read_bits, r->scope[g].clauses[k].attr,
                   strlen(r->scope[g].clauses[k].attr));
  for (g = 0; g < r->n_join; g++)
    for (k = 0; k < r->join[g].n_conditions; k++)
      out_read_bit(&e->out_read_bits, r->join[g].conditions[k].mv_attr,
                   strlen(r->join[g].conditions[k].mv_attr));
  for (k = 0; k < r->n_flows; k++) {
    const rule_flow *f = &r->flows[k];
    c->out_target_bits |= attr_name_bit(f->target, strlen(f->target));
    if (f->type == RULE_FLOW_DIRECT && f->source)
      out_read_bit(&e->out_read_bits, f->source, strlen(f->source));
    else if (f->type == RULE_FLOW_EXPRESSION && f->expr)
      expr_attrs(f->expr, out_read_bit, &e->out_read_bits);
    else if (f->type == RULE_FLOW_EXPRESSION)
      e->out_read_bits = ~(uint64_t)0;   /* an expression that did not compile */
  }
}

static int compile(mvs_engine *e)
{
  size_t i, j, k;

  if (!(e->conns = calloc(e->rs->n_connectors ? e->rs->n_connectors : 1, sizeof *e->conns)))
    return ENGINE_SYSTEM;
  e->n_conns = e->rs->n_connectors;
  for (i = 0; i < e->n_conns; i++) {
    conn_info *c = &e->conns[i];
    size_t s;
    c->rc = &e->rs->connectors[i];
    c->deletion_threshold = 500;
    c->deletion_threshold_pct = 50;
    c->import_delete_pct = 50;
    for (s = 0; s < c->rc->n_settings; s++) {
      const rule_setting *st = &c->rc->settings[s];
      int64_t *to = strcmp(st->key, "deletion-threshold") == 0           ? &c->deletion_threshold
                    : strcmp(st->key, "deletion-threshold-percent") == 0 ? &c->deletion_threshold_pct
                    : strcmp(st->key, "import-delete-threshold") == 0    ? &c->import_delete_pct
                                                                         : NULL;
      /* rule_set_check refused a value that is no number in range (file:line:col). */
      if (to)
        *to = st->value.num;
    }
  }
  for (i = 0; i < e->rs->n_rules; i++) {
    const rule *r = &e->rs->rules[i];
    conn_info *c = r->connector ? engine_conn(e, r->connector) : NULL;
    if (r->disabled || !c)
      continue;
    if (r->direction == RULE_INBOUND ? add_rule(&c->in_rules, &c->n_in, &c->cap_in, r)
                                     : add_rule(&c->out_rules, &c->n_out, &c->cap_out, r))
      return ENGINE_SYSTEM;
    if (r->direction == RULE_INBOUND && add_member_groups(c, r) != 0)
      return ENGINE_SYSTEM;
    if (r->direction == RULE_OUTBOUND)
      note_outbound(e, c, r);
    /* SelectUniqueValue looks its candidates up in the target connector space: index the
     * flow's target like a join key (cs_key).  The canonical text names the function. */
    for (j = 0; r->direction == RULE_OUTBOUND && j < r->n_flows; j++) {
      char *text = r->flows[j].expr ? expr_to_string(r->flows[j].expr) : NULL;
      int arc = text && strcasestr(text, "SelectUniqueValue(")
                    ? add_key_attr(c, r->flows[j].target) : 0;
      free(text);
      if (arc != 0)
        return ENGINE_SYSTEM;
    }
    for (j = 0; j < r->n_join; j++)
      for (k = 0; k < r->join[j].n_conditions; k++) {
        const join_condition *jc = &r->join[j].conditions[k];
        if (add_key_attr(c, jc->cs_attr) != 0 ||
            (r->direction == RULE_INBOUND &&
             add_mv_key_attr(e, jc->mv_attr) != 0))
          return ENGINE_SYSTEM;
      }
  }
  return ENGINE_OK;
}

static int hash_rules(mvs_engine *e)
{
  buf b;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0, i;
  int rc = ENGINE_SYSTEM;
  /* The set without its file list: the names there are spelled as --rules was (".", an
   * absolute path, a symlink, a trailing slash), and all a file adds to the meaning — its
   * rules' order and dialect — is in the rules themselves. */
  rule_set content = *e->rs;

  content.n_files = 0;
  buf_init(&b, 0);
  /* The JSON without positions depends only on the rules' meaning: reformatting a file or
   * editing comments does not force a full sync. */
  if (rule_set_to_json(&content, 0, &b) == 0 &&
      EVP_Digest(b.p ? b.p : "", b.len, md, &len, EVP_sha256(), NULL) == 1) {
    for (i = 0; i < len && i < 32; i++)
      snprintf(e->ruleset_hash + 2 * i, 3, "%02x", md[i]);
    rc = ENGINE_OK;
  }
  buf_free(&b);
  return rc;
}

int engine_open(const char *store_path, const char *rules_path, mvs_engine **out, char **err)
{
  mvs_engine *e = calloc(1, sizeof *e);
  char *serr = NULL;
  int rc = ENGINE_SYSTEM;

  *err = NULL;
  if (!e)
    return ENGINE_SYSTEM;
  buf_init(&e->log, 0);
  if (!(e->scratch = mvs_arena_new(0)) || !(e->scratch2 = mvs_arena_new(0)))
    goto fail;
  if (rules_path && ((rc = load_rules(e, rules_path)) != ENGINE_OK ||
                     (rc = compile(e)) != ENGINE_OK || (rc = hash_rules(e)) != ENGINE_OK))
    goto fail;
  if (store_open(store_path, false, &e->st, &serr) != STORE_OK) {
    engine_errorf(e, "%s", serr ? serr : "cannot open the store");
    free(serr);
    rc = ENGINE_SYSTEM;
    goto fail;
  }
  *out = e;
  return ENGINE_OK;
fail:
  *err = strdup(e->errmsg[0] ? e->errmsg : "out of memory");
  engine_close(e);
  return rc;
}

int engine_init(const char *store_path, char **err)
{
  store *st = NULL;
  if (store_open(store_path, true, &st, err) != STORE_OK) {
    if (!*err)
      *err = strdup("out of memory");
    return ENGINE_SYSTEM;
  }
  store_close(st);
  return ENGINE_OK;
}

int engine_lock(mvs_engine *e, int64_t wait_ms)
{
  char *err = NULL;
  int rc = store_lock_writer(e->st, wait_ms, &err);
  if (rc == STORE_OK)
    return ENGINE_OK;
  engine_errorf(e, "%s", err ? err : "out of memory");
  free(err);
  return rc == STORE_BUSY ? ENGINE_BUSY : ENGINE_SYSTEM;
}

void engine_close(mvs_engine *e)
{
  size_t i, j;
  if (!e)
    return;
  if (e->in_tx)
    store_rollback(e->st);
  store_close(e->st);
  for (i = 0; i < e->n_conns; i++) {
    if (e->conns[i].asked) {
      connector_close_for(e->conns[i].asked);
      free(e->conns[i].asked);
    }
    free(e->conns[i].in_rules);
    free(e->conns[i].out_rules);
    free(e->conns[i].key_attrs);
    for (j = 0; j < e->conns[i].n_member_groups; j++)
      free(e->conns[i].member_groups[j]);
    free(e->conns[i].member_groups);
  }
  free(e->conns);
  free(e->mv_key_attrs);
  id_list_free(&e->flow_err);
  if (e->rs)
    rule_set_free(e->rs);
  if (e->diff) {
    diff_free(e->diff);
    free(e->diff);
  }
  buf_free(&e->log);
  if (e->scratch)
    mvs_arena_free(e->scratch);
  if (e->scratch2)
    mvs_arena_free(e->scratch2);
  free(e);
}
