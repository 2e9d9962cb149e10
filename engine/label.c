/* label — how diffs, traces and the dump name objects (label.h).  Memory: labels and link
 * texts live in the arena given; the links array is malloc'd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/label.h"

static int cmp_cstr(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "CONNECTOR/anchor" (or "CONNECTOR/DN" before an import confirmed the object). */
static int label_cs_link(mvs_engine *e, const cs_row *cs, mvs_arena *a, const char **out)
{
  const char *name;
  char *s;
  size_t n;
  if (store_connector_name(e->st, cs->connector, a, &name) != STORE_OK)
    return -1;
  n = strlen(name) + 2 + strlen(cs->anchor ? cs->anchor : cs->dn ? cs->dn : "");
  if (!(s = mvs_arena_alloc(a, n)))
    return -1;
  snprintf(s, n, "%s/%s", name, cs->anchor ? cs->anchor : cs->dn ? cs->dn : "");
  *out = s;
  return 0;
}

int label_cs(mvs_engine *e, const cs_row *cs, mvs_arena *a, const char **label)
{
  (void)e;
  (void)a;
  *label = cs->dn ? cs->dn : cs->anchor ? cs->anchor : "?";
  return 0;
}

/* The rows are read into an arena of their own: only the link texts go into a, which may be
 * asked for every member of a 100,000-member group. */
int label_mv_links(mvs_engine *e, int64_t mv_id, mvs_arena *a, const char ***links, size_t *n)
{
  id_list joined = {0};
  const char **v = NULL, *coll;
  mvs_arena *rows = NULL;
  size_t i, k = 0;
  int rc = -1, q;

  *links = NULL;
  *n = 0;
  if (store_cs_joined(e->st, mv_id, &joined) != STORE_OK ||
      !(v = calloc(joined.n + 1, sizeof *v)) || !(rows = mvs_arena_new(0)))
    goto out;
  for (i = 0; i < joined.n; i++) {
    cs_row cs;
    mvs_arena_reset(rows);
    if (store_cs_get(e->st, joined.ids[i], rows, &cs) != STORE_OK ||
        label_cs_link(e, &cs, a, &v[k++]) != 0)
      goto out;
  }
  if ((q = store_collection_name(e->st, mv_id, rows, &coll)) == STORE_OK) {
    size_t len = strlen(coll) + sizeof "collection/";
    char *link = mvs_arena_alloc(a, len);
    if (!link)
      goto out;
    snprintf(link, len, "collection/%s", coll);
    v[k++] = link;
  } else if (q != STORE_NOTFOUND) {
    goto out;
  }
  if (k)
    qsort(v, k, sizeof *v, cmp_cstr);
  *links = v;
  *n = k;
  v = NULL;
  rc = 0;
out:
  if (rows)
    mvs_arena_free(rows);
  free(v);
  id_list_free(&joined);
  return rc;
}

int label_mv(mvs_engine *e, int64_t mv_id, mvs_arena *a, const char **label)
{
  const char **links;
  size_t n, i;
  buf b;

  if (label_mv_links(e, mv_id, a, &links, &n) != 0)
    return -1;
  buf_init(&b, 0);
  for (i = 0; i < n; i++)
    buf_printf(&b, "%s%s", i ? " " : "", links[i]);
  if (!n)
    buf_printf(&b, "metaverse/%lld", (long long)mv_id);
  *label = mvs_arena_memdup(a, b.p, b.len);
  buf_free(&b);
  free(links);
  return *label ? 0 : -1;
}
