/* change — typing raw values and identifying complete objects.  See change.h. */
#include "connectors/change.h"

#include <string.h>
#include <strings.h>

#include "connectors/guid.h"

static shape_syntax syntax_of(const ftyper *t, const char *attr)
{
  for (size_t i = 0; i < t->n_ref_attrs; i++)
    if (strcasecmp(t->ref_attrs[i], attr) == 0)
      return SYN_REF;
  return shape_syntax_of(t->shape, attr);
}

int ftype_value(const ftyper *t, const char *attr, mvs_value raw, bool json, mvs_arena *a,
                mvs_value *out, const char **why)
{
  shape_syntax syn = syntax_of(t, attr);
  mvs_value *items;
  size_t n, i;
  int rc;

  if (raw.type == MVS_V_NULL) {
    *out = raw;
    return 0;
  }
  if (raw.type != MVS_V_MV)
    return shape_convert(syn, raw, json, a, out, why);
  n = raw.u.mv.n;
  items = mvs_arena_alloc(a, n * sizeof *items);
  if (!items)
    return -2;
  for (i = 0; i < n; i++)
    if ((rc = shape_convert(syn, raw.u.mv.items[i], json, a, &items[i], why)) != 0)
      return rc;
  out->type = MVS_V_MV;
  out->u.mv.items = items;
  out->u.mv.n = n;
  return 0;
}

const conn_attr *fchange_attr(const fchange *ch, const char *name)
{
  for (size_t i = 0; i < ch->n_attrs; i++)
    if (strcasecmp(ch->attrs[i].name, name) == 0)
      return &ch->attrs[i];
  return NULL;
}

int fchange_identify(fchange *ch, const shape *s, mvs_arena *a, const char **why)
{
  const conn_attr *anchor = fchange_attr(ch, s->anchor_attr);
  const conn_attr *classes = fchange_attr(ch, "objectClass");

  ch->type = classes ? shape_type_of_classes(s, classes->value) : NULL;
  if (!ch->type) {
    *why = "entry without objectClass";
    return -1;
  }
  ch->anchor = ch->dn;
  if (!anchor)
    return 0;
  if (mvs_count(anchor->value) != 1) {
    *why = "the anchor attribute has several values";
    return -1;
  }
  {
    mvs_value v = mvs_item(anchor->value, 0);
    char *text = mvs_arena_alloc(a, GUID_TEXT_LEN + 1);
    if (!text)
      return -2;
    if (v.type == MVS_V_BIN && v.u.s.n == 16) {
      guid_format_ms((const unsigned char *)v.u.s.p, text);
    } else if (v.type == MVS_V_STR && v.u.s.n > 0) {
      /* entryUUID and other text anchors: a GUID in canonical case, anything else as is. */
      unsigned char g[16];
      if (guid_parse_ms(v.u.s.p, v.u.s.n, g) == 0)
        guid_format_ms(g, text);
      else
        text = mvs_arena_memdup(a, v.u.s.p, v.u.s.n);
      if (!text)
        return -2;
    } else {
      *why = "the anchor attribute has no usable value";
      return -1;
    }
    ch->anchor = text;
  }
  return 0;
}
