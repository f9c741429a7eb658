/* Accept header parsing and media-type negotiation (RFC 9110 12.5.1) the
 * way Kubernetes clients use it: a media type may carry the parameters
 * g (group), v (version) and as (kind) to ask for another representation
 * of the same resource, e.g. an aggregated discovery document or a Table:
 *
 *   application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,
 *   application/json
 *
 * Pure string work, no allocation; shared by discovery and (later) the
 * Table and protobuf negotiation of resource requests. */
#ifndef C8S_API_SERVER_DISCOVERY_ACCEPT_H
#define C8S_API_SERVER_DISCOVERY_ACCEPT_H

#include <stdbool.h>
#include <stddef.h>

/* Media ranges kept from one header; later ones are ignored (kubectl sends
 * at most three). */
#define SRV_ACCEPT_MAX 16
/* Longest token kept (type, subtype, g, v, as); a longer one makes the
 * range unusable, which is then skipped. */
#define SRV_ACCEPT_TOKEN_MAX 64

/* One media range of an Accept header, lower-cased where HTTP says case
 * does not matter (type, subtype, parameter names); parameter values are
 * kept as sent (Kubernetes compares them exactly). */
struct srv_media_range {
    char type[SRV_ACCEPT_TOKEN_MAX];    /* "application" or "*" */
    char subtype[SRV_ACCEPT_TOKEN_MAX]; /* "json" or "*" */
    char group[SRV_ACCEPT_TOKEN_MAX];   /* g=, or "" */
    char version[SRV_ACCEPT_TOKEN_MAX]; /* v=, or "" */
    char as[SRV_ACCEPT_TOKEN_MAX];      /* as=, or "" */
    unsigned q;                         /* quality x 1000 (0..1000) */
};

/* A representation the server can produce. */
struct srv_media_offer {
    const char *type;    /* "application" */
    const char *subtype; /* "json" */
    const char *group;   /* g= of the representation, or "" */
    const char *version; /* v=, or "" */
    const char *as;      /* as=, or "" for the plain resource */
};

/* Parse @accept (NULL or empty: nothing) into at most @max ranges at @out,
 * sorted by quality, highest first, keeping the header's order among
 * equals (that order is the client's preference: kubectl lists v2 before
 * v2beta1 before plain JSON, all without q). Malformed ranges and ranges
 * with q=0 are dropped. Returns the number kept. */
size_t srv_accept_parse(const char *accept,
                        struct srv_media_range *out,
                        size_t max);

/* Whether range @m accepts offer @o: type and subtype equal or "*", and
 * g, v and as all equal (a plain range never matches a g/v/as offer, and
 * the other way round, as in kube-apiserver). */
bool srv_media_match(const struct srv_media_range *m,
                     const struct srv_media_offer *o);

/* Pick the offer for @accept: the first of the sorted ranges that any
 * offer matches decides, and among the offers it matches the first in
 * @offers wins. A missing or empty header accepts offer 0. Returns the
 * index into @offers, or -1 when nothing is acceptable (406). */
int srv_accept_negotiate(const char *accept,
                         const struct srv_media_offer *offers,
                         size_t n_offers);

#endif /* C8S_API_SERVER_DISCOVERY_ACCEPT_H */
