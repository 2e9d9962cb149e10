/* keys — see keys.h. */
#include "engine/keys.h"

#include <stdlib.h>
#include <string.h>

#include "engine/attrset.h"
#include "schema/array.h"

typedef struct key_row {
  const char *attr, *norm;
} key_row;

static int key_cmp(const char *attr_a, const char *norm_a, const char *attr_b,
                   const char *norm_b)
{
  int c = strcmp(attr_a, attr_b);
  return c ? c : strcmp(norm_a, norm_b);
}

static int key_row_cmp(const void *a, const void *b)
{
  const key_row *x = a, *y = b;
  return key_cmp(x->attr, x->norm, y->attr, y->norm);
}

/* Every (attr, folded value) the object should have, sorted, without repeats. */
static int keys_wanted(mvs_arena *a, const char *const *attrs, size_t n, key_values_fn values,
                       void *u, key_row **out, size_t *n_out)
{
  key_row *rows = NULL;
  size_t n_rows = 0, cap = 0, i, j;
  buf norm;
  int rc = 0;

  buf_init(&norm, BUF_CAP_VALUE);
  for (i = 0; i < n && rc == 0; i++) {
    mvs_value v = values(u, attrs[i]);
    for (j = 0; j < mvs_count(v) && rc == 0; j++) {
      buf_reset(&norm);
      if (attr_fold(mvs_item(v, j), &norm) != 0 ||
          array_reserve_in(a, &rows, n_rows, &cap, n_rows + 1, sizeof *rows) != 0 ||
          !(rows[n_rows].norm = mvs_arena_memdup(a, norm.p ? norm.p : "", norm.len)))
        rc = -1;
      else
        rows[n_rows++].attr = attrs[i];
    }
  }
  buf_free(&norm);
  if (rc != 0)
    return -1;
  if (n_rows > 1)
    qsort(rows, n_rows, sizeof *rows, key_row_cmp);
  for (i = j = 0; i < n_rows; i++)
    if (j == 0 || key_row_cmp(&rows[j - 1], &rows[i]) != 0)
      rows[j++] = rows[i];
  *out = rows;
  *n_out = j;
  return 0;
}

int keys_sync(mvs_arena *a, const char *const *attrs, size_t n, key_values_fn values,
              const ref_rows *have, key_row_fn row, void *u)
{
  key_row *want;
  size_t n_want, i = 0, j = 0;
  int rc = 0;

  if (keys_wanted(a, attrs, n, values, u, &want, &n_want) != 0)
    return -1;
  /* A merge of two sorted lists: rows only in `have` go, rows only in `want` come. */
  while (rc == 0 && (i < have->n || j < n_want)) {
    const ref_row *h = i < have->n ? &have->items[i] : NULL;
    int c = !h ? 1 : j == n_want ? -1
                                 : key_cmp(h->attr, h->target_norm, want[j].attr, want[j].norm);
    if (c < 0)
      rc = row(u, h->attr, h->target_norm, KEY_REMOVE), i++;
    else if (c > 0)
      rc = row(u, want[j].attr, want[j].norm, KEY_ADD), j++;
    else
      rc = row(u, want[j].attr, want[j].norm, KEY_KEEP), i++, j++;
  }
  return rc;
}
