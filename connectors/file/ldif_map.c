/* ldif_map — LDIF records <-> typed changes.  See ldif_map.h. */
#include "connectors/file/ldif_map.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "connectors/dn.h"

static int fail(char *err, size_t errlen, const char *file, long line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(char *err, size_t errlen, const char *file, long line, const char *fmt, ...)
{
  va_list ap;
  int n = snprintf(err, errlen, "%s:%ld: ", file, line);
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < errlen)
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

/* A value as the LDIF gave it: text, or bytes when written in base64 (typing decides). */
static mvs_value raw_value(const ldif_attrval *v)
{
  return v->b64 ? mvs_bin_ref(v->val, v->len) : mvs_str_ref(v->val, v->len);
}

/* Type the values vals[idx[0..n)] of one attribute into a single or multi-valued value; a
 * value that does not fit is reported at its own line. */
static int typed_values(const ldif_attrval *vals, const size_t *idx, size_t n, const char *attr,
                        const ftyper *t, mvs_arena *a, mvs_value *out, const char *file, char *err,
                        size_t errlen)
{
  mvs_value *items;
  const char *why = NULL;
  int rc;

  if (n == 0) {
    *out = mvs_null();
    return 0;
  }
  if (!(items = mvs_arena_alloc(a, n * sizeof *items)))
    return -2;
  for (size_t i = 0; i < n; i++) {
    rc = ftype_value(t, attr, raw_value(&vals[idx[i]]), false, a, &items[i], &why);
    if (rc == -1)
      return fail(err, errlen, file, vals[idx[i]].line, "%s: %s", attr, why);
    if (rc != 0)
      return rc;
  }
  if (n == 1) {
    *out = items[0];
    return 0;
  }
  out->type = MVS_V_MV;
  out->u.mv.items = items;
  out->u.mv.n = n;
  return 0;
}

/* Group the values of a content or add record by attribute, in order of first appearance:
 * one REPLACE per attribute. */
static int entry_attrs(const ldif_record *rec, const ftyper *t, mvs_arena *a, fchange *out,
                       const char *file, char *err, size_t errlen)
{
  size_t nv = rec->n_vals, ng = 0, i, g;
  size_t *group = mvs_arena_alloc(a, (nv + 1) * sizeof *group); /* value -> attribute */
  size_t *first = mvs_arena_alloc(a, (nv + 1) * sizeof *first); /* attribute -> 1st value */
  size_t *count, *start, *idx;
  conn_attr *attrs;
  int rc;

  if (!group || !first)
    return -2;
  for (i = 0; i < nv; i++) {
    for (g = 0; g < ng; g++)
      if (strcasecmp(rec->vals[first[g]].attr, rec->vals[i].attr) == 0)
        break;
    if (g == ng) {
      if (ng == LDIF_MAX_ATTRS)
        return fail(err, errlen, file, rec->vals[i].line, "more than %d attributes in one entry",
                    LDIF_MAX_ATTRS);
      first[ng++] = i;
    }
    group[i] = g;
  }
  /* Counting sort of the values by attribute, keeping their order within each. */
  count = mvs_arena_alloc(a, (ng + 1) * sizeof *count);
  start = mvs_arena_alloc(a, (ng + 1) * sizeof *start);
  idx = mvs_arena_alloc(a, (nv + 1) * sizeof *idx);
  attrs = mvs_arena_alloc(a, (ng + 1) * sizeof *attrs);
  if (!count || !start || !idx || !attrs)
    return -2;
  memset(count, 0, (ng + 1) * sizeof *count);
  for (i = 0; i < nv; i++)
    count[group[i]]++;
  start[0] = 0;
  for (g = 0; g < ng; g++)
    start[g + 1] = start[g] + count[g];
  memset(count, 0, (ng + 1) * sizeof *count);
  for (i = 0; i < nv; i++)
    idx[start[group[i]] + count[group[i]]++] = i;
  for (g = 0; g < ng; g++) {
    attrs[g].name = rec->vals[first[g]].attr;
    attrs[g].op = CONN_ATTR_REPLACE;
    if ((rc = typed_values(rec->vals, idx + start[g], count[g], attrs[g].name, t, a,
                           &attrs[g].value, file, err, errlen)) != 0)
      return rc;
  }
  out->attrs = attrs;
  out->n_attrs = ng;
  return 0;
}

static int modify_attrs(const ldif_record *rec, const ftyper *t, mvs_arena *a, fchange *out,
                        const char *file, char *err, size_t errlen)
{
  static const conn_attr_op ops[] = {CONN_ATTR_ADD, CONN_ATTR_DELETE, CONN_ATTR_REPLACE};
  static const char *const names[] = {"add", "delete", "replace"};
  conn_attr *attrs = mvs_arena_alloc(a, (rec->n_mods + 1) * sizeof *attrs);
  size_t *idx = mvs_arena_alloc(a, (rec->n_vals + 1) * sizeof *idx);
  int rc;

  if (!attrs || !idx)
    return -2;
  for (size_t i = 0; i < rec->n_vals; i++)
    idx[i] = i;
  for (size_t m = 0; m < rec->n_mods; m++) {
    const ldif_mod *mod = &rec->mods[m];
    if (strcasecmp(mod->attr, t->shape->anchor_attr) == 0)
      return fail(err, errlen, file, mod->line, "the anchor attribute %s cannot change",
                  t->shape->anchor_attr);
    if (mod->op == LDIF_MOD_ADD && mod->count == 0)
      return fail(err, errlen, file, mod->line, "\"%s: %s\" without values", names[mod->op],
                  mod->attr);
    attrs[m].name = mod->attr;
    attrs[m].op = ops[mod->op];
    if ((rc = typed_values(rec->vals, idx + mod->first, mod->count, mod->attr, t, a,
                           &attrs[m].value, file, err, errlen)) != 0)
      return rc;
  }
  out->attrs = attrs;
  out->n_attrs = rec->n_mods;
  return 0;
}

/* Add op on each attribute=value pair of an RDN to attrs (the value changes a rename makes). */
static int rdn_changes(const char *rdn, size_t n, conn_attr_op op, const ftyper *t, mvs_arena *a,
                       conn_attr *attrs, size_t *k, size_t max, const char *file, long line,
                       char *err, size_t errlen)
{
  buf attr, val;
  size_t pos = 0;
  int more, rc = 0;

  buf_init(&attr, 0);
  buf_init(&val, 0);
  while ((more = dn_ava_next(rdn, n, &pos, &attr, &val)) == 1) {
    const char *why = NULL;
    char *name = mvs_arena_memdup(a, attr.p, attr.len);
    mvs_value raw;
    if (*k == max) {
      rc = fail(err, errlen, file, line, "too many attributes in an RDN");
      goto out;
    }
    if (!name || mvs_str_copy(a, val.p ? val.p : "", val.len, &raw) != 0) {
      rc = -2;
      goto out;
    }
    attrs[*k].name = name;
    attrs[*k].op = op;
    if ((rc = ftype_value(t, name, raw, false, a, &attrs[*k].value, &why)) != 0) {
      if (rc == -1)
        fail(err, errlen, file, line, "%s: %s", name, why);
      goto out;
    }
    ++*k;
  }
  if (more < 0)
    rc = fail(err, errlen, file, line, "bad RDN \"%.*s\"", (int)(n > 128 ? 128 : n), rdn);
out:
  buf_free(&attr);
  buf_free(&val);
  return rc;
}

static int moddn_change(const ldif_record *rec, const ftyper *t, mvs_arena *a, fchange *out,
                        const char *file, char *err, size_t errlen)
{
  size_t poff = dn_parent_off(rec->dn, rec->dn_len), max = 128, k = 0; /* RDN pairs, both RDNs */
  const char *parent = rec->newsuperior ? rec->newsuperior : rec->dn + poff;
  size_t plen = rec->newsuperior ? rec->newsuperior_len : rec->dn_len - poff;
  size_t nlen = rec->newrdn_len + (plen ? 1 + plen : 0);
  char *new_dn = mvs_arena_alloc(a, nlen + 1);
  conn_attr *attrs = mvs_arena_alloc(a, max * sizeof *attrs);
  int rc;

  if (!new_dn || !attrs)
    return -2;
  if (!dn_valid(rec->newrdn, rec->newrdn_len) ||
      dn_rdn_len(rec->newrdn, rec->newrdn_len) != rec->newrdn_len)
    return fail(err, errlen, file, rec->line, "newrdn is not one RDN");
  if (rec->newsuperior && !dn_valid(rec->newsuperior, rec->newsuperior_len))
    return fail(err, errlen, file, rec->line, "newsuperior is not a DN");
  memcpy(new_dn, rec->newrdn, rec->newrdn_len);
  if (plen) {
    new_dn[rec->newrdn_len] = ',';
    memcpy(new_dn + rec->newrdn_len + 1, parent, plen);
  }
  new_dn[nlen] = '\0';
  out->new_dn = new_dn;
  out->delete_old_rdn = rec->deleteoldrdn;
  /* The old RDN values go first, so an RDN value kept by the rename stays. */
  if (rec->deleteoldrdn &&
      (rc = rdn_changes(rec->dn, dn_rdn_len(rec->dn, rec->dn_len), CONN_ATTR_DELETE, t, a, attrs,
                        &k, max, file, rec->line, err, errlen)) != 0)
    return rc;
  if ((rc = rdn_changes(rec->newrdn, rec->newrdn_len, CONN_ATTR_ADD, t, a, attrs, &k, max, file,
                        rec->line, err, errlen)) != 0)
    return rc;
  out->attrs = attrs;
  out->n_attrs = k;
  return 0;
}

int ldif_to_change(const ldif_record *rec, const char *file, const ftyper *t, mvs_arena *a,
                   fchange *out, char *err, size_t errlen)
{
  size_t origin_size = strlen(file) + 24;
  char *origin = mvs_arena_alloc(a, origin_size);
  const char *why = NULL;
  int rc = 0;

  if (!origin)
    return -2;
  snprintf(origin, origin_size, "%s:%ld", file, rec->line);
  if (!dn_valid(rec->dn, rec->dn_len))
    return fail(err, errlen, file, rec->line, "not a DN (attribute=value, ...)");
  memset(out, 0, sizeof *out);
  out->dn = rec->dn;
  out->origin = origin;
  out->offset = rec->offset;
  switch (rec->kind) {
  case LDIF_CONTENT:
  case LDIF_ADD:
    out->kind = FCH_ENTRY;
    out->is_add = rec->kind == LDIF_ADD;
    if ((rc = entry_attrs(rec, t, a, out, file, err, errlen)) != 0)
      return rc;
    rc = fchange_identify(out, t->shape, a, &why);
    if (rc == -1)
      return fail(err, errlen, file, rec->line, "%s", why);
    return rc;
  case LDIF_MODIFY:
    out->kind = FCH_MODIFY;
    return modify_attrs(rec, t, a, out, file, err, errlen);
  case LDIF_MODDN:
    out->kind = FCH_RENAME;
    return moddn_change(rec, t, a, out, file, err, errlen);
  case LDIF_DELETE:
    out->kind = FCH_DELETE;
    return 0;
  }
  return 0;
}

/* ---- writing ---- */

static int put_value(buf *out, const char *attr, mvs_value v)
{
  char tmp[32];
  switch (v.type) {
  case MVS_V_STR:
  case MVS_V_REF:
    return ldif_put(out, attr, v.u.s.p, v.u.s.n, false);
  case MVS_V_BIN:
    return ldif_put(out, attr, v.u.s.p, v.u.s.n, true);
  case MVS_V_NUM:
    snprintf(tmp, sizeof tmp, "%" PRId64, v.u.num);
    return ldif_put(out, attr, tmp, strlen(tmp), false);
  case MVS_V_BOOL:
    return ldif_put(out, attr, v.u.b ? "TRUE" : "FALSE", v.u.b ? 4 : 5, false);
  case MVS_V_DT:
    shape_format_gentime(v.u.dt, tmp);
    return ldif_put(out, attr, tmp, strlen(tmp), false);
  default:
    return BUF_OK;
  }
}

static int put_values(buf *out, const conn_attr *at)
{
  int rc = BUF_OK;
  for (size_t i = 0; i < mvs_count(at->value) && rc == BUF_OK; i++)
    rc = put_value(out, at->name, mvs_item(at->value, i));
  return rc;
}

static int write_rename(const fchange *ch, buf *out)
{
  size_t dn_n = strlen(ch->dn), new_n = strlen(ch->new_dn);
  size_t rdn_n = dn_rdn_len(ch->new_dn, new_n), newp = dn_parent_off(ch->new_dn, new_n);
  size_t oldp = dn_parent_off(ch->dn, dn_n);
  int rc;

  if ((rc = buf_adds(out, "changetype: modrdn\n")) != BUF_OK ||
      (rc = ldif_put(out, "newrdn", ch->new_dn, rdn_n, false)) != BUF_OK ||
      (rc = buf_adds(out, ch->delete_old_rdn ? "deleteoldrdn: 1\n" : "deleteoldrdn: 0\n")) !=
          BUF_OK)
    return rc;
  if (dn_equal(ch->dn + oldp, dn_n - oldp, ch->new_dn + newp, new_n - newp))
    return BUF_OK;
  if (newp == new_n)
    return -1; /* LDIF cannot move an entry to the root */
  return ldif_put(out, "newsuperior", ch->new_dn + newp, new_n - newp, false);
}

int ldif_write_change(const fchange *ch, buf *out)
{
  static const char *const mod_names[] = {"replace", "add", "delete"};
  int rc;

  for (size_t i = 0; i < ch->n_attrs; i++)
    if (!ldif_attr_name(ch->attrs[i].name, strlen(ch->attrs[i].name)))
      return -1; /* the reader would refuse the log from there on */
  if ((rc = ldif_put(out, "dn", ch->dn, strlen(ch->dn), false)) != BUF_OK)
    return rc;
  switch (ch->kind) {
  case FCH_ENTRY:
  case FCH_UPSERT:
    if (ch->is_add && (rc = buf_adds(out, "changetype: add\n")) != BUF_OK)
      return rc;
    for (size_t i = 0; i < ch->n_attrs && rc == BUF_OK; i++)
      rc = put_values(out, &ch->attrs[i]);
    break;
  case FCH_MODIFY:
    rc = buf_adds(out, "changetype: modify\n");
    for (size_t i = 0; i < ch->n_attrs && rc == BUF_OK; i++) {
      const conn_attr *at = &ch->attrs[i];
      if ((rc = buf_printf(out, "%s: %s\n", mod_names[at->op], at->name)) == BUF_OK &&
          (rc = put_values(out, at)) == BUF_OK)
        rc = buf_adds(out, "-\n");
    }
    break;
  case FCH_RENAME:
    rc = write_rename(ch, out);
    break;
  case FCH_DELETE:
    rc = buf_adds(out, "changetype: delete\n");
    break;
  }
  return rc == BUF_OK ? buf_addc(out, '\n') : rc;
}
