/* buf — capped growable buffers and bump arenas. See buf.h. */
#include "schema/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_DEFAULT_MAX ((size_t)1 << 30)

void buf_init(buf *b, size_t max)
{
  b->p = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max ? max : BUF_DEFAULT_MAX;
}

static int buf_grow(buf *b, size_t extra)
{
  size_t need, ncap;
  char *np;

  if (extra > b->max - b->len)
    return BUF_TOOBIG;
  need = b->len + extra + 1;
  if (need <= b->cap)
    return BUF_OK;
  ncap = b->cap ? b->cap : 64;
  while (ncap < need)
    ncap *= 2;
  np = realloc(b->p, ncap);
  if (!np)
    return BUF_NOMEM;
  b->p = np;
  b->cap = ncap;
  return BUF_OK;
}

int buf_add(buf *b, const void *p, size_t n)
{
  int rc = buf_grow(b, n);
  if (rc)
    return rc;
  if (n)
    memcpy(b->p + b->len, p, n);
  b->len += n;
  b->p[b->len] = '\0';
  return BUF_OK;
}

int buf_addc(buf *b, char c) { return buf_add(b, &c, 1); }

int buf_adds(buf *b, const char *s) { return buf_add(b, s, strlen(s)); }

int buf_vprintf(buf *b, const char *fmt, va_list ap)
{
  va_list ap2;
  int n, rc;

  va_copy(ap2, ap);
  n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    return BUF_NOMEM;
  rc = buf_grow(b, (size_t)n);
  if (rc)
    return rc;
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return BUF_OK;
}

int buf_printf(buf *b, const char *fmt, ...)
{
  va_list ap;
  int rc;
  va_start(ap, fmt);
  rc = buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

void buf_reset(buf *b)
{
  b->len = 0;
  if (b->p)
    b->p[0] = '\0';
}

char *buf_detach(buf *b)
{
  char *p = b->p;
  if (!p)
    p = calloc(1, 1);
  b->p = NULL;
  b->len = b->cap = 0;
  return p;
}

void buf_free(buf *b)
{
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

/* ---- arena ---- */

struct arena_block {
  struct arena_block *next;
  size_t size, used;
  _Alignas(16) unsigned char data[];
};

struct mvs_arena {
  struct arena_block *head;
  size_t cap, total;
};

#define ARENA_BLOCK 65536

mvs_arena *mvs_arena_new(size_t cap)
{
  mvs_arena *a = calloc(1, sizeof *a);
  if (a)
    a->cap = cap ? cap : ((size_t)64 << 20);
  return a;
}

void *mvs_arena_alloc(mvs_arena *a, size_t n)
{
  struct arena_block *blk = a->head;
  size_t need = (n + 15) & ~(size_t)15;
  void *p;

  if (n == 0)
    need = 16;
  if (need < n || need > a->cap)
    return NULL;
  if (!blk || blk->size - blk->used < need) {
    size_t size = need > ARENA_BLOCK ? need : ARENA_BLOCK;
    /* total <= cap always, so cap - total cannot wrap (total + size could). */
    if (size > a->cap - a->total) {
      size = need;
      if (size > a->cap - a->total)
        return NULL;
    }
    if (size > SIZE_MAX - sizeof *blk)
      return NULL;
    blk = malloc(sizeof *blk + size);
    if (!blk)
      return NULL;
    blk->size = size;
    blk->used = 0;
    blk->next = a->head;
    a->head = blk;
    a->total += size;
  }
  p = blk->data + blk->used;
  blk->used += need;
  return p;
}

void *mvs_arena_memdup(mvs_arena *a, const void *p, size_t n)
{
  char *d;
  if (n == SIZE_MAX)
    return NULL;
  d = mvs_arena_alloc(a, n + 1);
  if (!d)
    return NULL;
  if (n)
    memcpy(d, p, n);
  d[n] = '\0';
  return d;
}

size_t mvs_arena_used(const mvs_arena *a) { return a->total; }

void mvs_arena_reset(mvs_arena *a)
{
  struct arena_block *b = a->head, *n;
  while (b) {
    n = b->next;
    free(b);
    b = n;
  }
  a->head = NULL;
  a->total = 0;
}

void mvs_arena_free(mvs_arena *a)
{
  if (!a)
    return;
  mvs_arena_reset(a);
  free(a);
}
