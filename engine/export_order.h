/* export_order — the order a connector's pending exports go in: what a change needs first
 * (parents and referenced objects before an add, children before a delete).  Memory: the
 * id list is reordered in place; nothing else is returned. */
#ifndef MVS_EXPORT_ORDER_H
#define MVS_EXPORT_ORDER_H

#include "engine/engine_int.h"
#include "engine/store.h"

/* Reorder a connector's pending exports (as store_pe_list gives them) so that what a change
 * needs is sent first: parents and referenced objects before an add, children before a
 * delete (export_order.c).  0, or -1 on a store or memory failure. */
int export_order(mvs_engine *e, id_list *ids);

#endif
