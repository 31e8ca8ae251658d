/* lapi_shadow.h — db.shadow(env): a scratch database, dropped when its
 * connection closes. */
#ifndef STALLMIG_LAPI_SHADOW_H
#define STALLMIG_LAPI_SHADOW_H

#include "lconn.h"

/* Drops c's shadow database (if it is one) after c was closed; never raises. */
void shadow_drop(struct lconn *c);

#endif
