/* Bootstrap tokens, as kube-apiserver's --enable-bootstrap-token-auth
 * reads them: a bearer token "ID.SECRET" (6 and 16 characters of [a-z0-9])
 * is the Secret kube-system/bootstrap-token-ID of type
 * bootstrap.kubernetes.io/token whose data holds token-id ID,
 * token-secret SECRET and usage-bootstrap-authentication "true", and, if
 * set, an expiration (RFC 3339) still ahead. Its user is
 * system:bootstrap:ID in system:bootstrappers, the groups of
 * auth-extra-groups (each system:bootstrappers:...), and
 * system:authenticated. Node agents join with one. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "api/object/obj.h"
#include "api/server/internal.h"
#include "api/server/objects.h"

#define ID_LEN 6
#define SECRET_LEN 16
#define SECRET_TYPE "bootstrap.kubernetes.io/token"
#define EXTRA_PREFIX "system:bootstrappers:"

static bool token_chars(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

bool srv__bootstrap_token_shape(const char *token)
{
    return strlen(token) == ID_LEN + 1 + SECRET_LEN && token[ID_LEN] == '.' &&
           token_chars(token, ID_LEN) &&
           token_chars(token + ID_LEN + 1, SECRET_LEN);
}

/* data.@key of the Secret, base64-decoded into @out (NUL-terminated);
 * false when absent, not base64 or too long. */
static bool data_at(const struct obj *secret, const char *key, char *out,
                    size_t size)
{
    const struct obj *v = obj_map_get(obj_map_get(secret, "data"), key);
    size_t len = 0;
    const char *b64 = obj_str(v, &len);
    unsigned char buf[1024];
    int n;

    if (b64 == NULL || len == 0 || len % 4 != 0 || len / 4 * 3 > sizeof buf)
        return false;
    n = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)len);
    if (n < 0)
        return false;
    n -= (b64[len - 1] == '=') + (len > 1 && b64[len - 2] == '=');
    if (n < 0 || (size_t)n >= size || memchr(buf, '\0', (size_t)n) != NULL)
        return false;
    memcpy(out, buf, (size_t)n);
    out[n] = '\0';
    return true;
}

/* Unix time of an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ", or -1. */
static int64_t parse_time(const char *s)
{
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

    if (end == NULL || strcmp(end, "Z") != 0)
        return -1;
    return (int64_t)timegm(&tm);
}

/* The extra groups, each system:bootstrappers:..., into @u. */
static bool add_extra_groups(const struct obj *secret, struct srv_user *u)
{
    char list[1024], *save = NULL;

    if (!data_at(secret, "auth-extra-groups", list, sizeof list))
        return true; /* none */
    for (char *g = strtok_r(list, ",", &save); g != NULL;
         g = strtok_r(NULL, ",", &save)) {
        if (strncmp(g, EXTRA_PREFIX, strlen(EXTRA_PREFIX)) != 0 ||
            strlen(g) >= SRV_USER_NAME_MAX || u->n_groups + 2 > SRV_USER_GROUPS_MAX)
            return false;
        (void)snprintf(u->groups[u->n_groups++], SRV_USER_NAME_MAX, "%s", g);
    }
    return true;
}

int srv__bootstrap_user(struct srv_api *api, const char *token,
                        struct srv_user *u)
{
    struct obj *s = NULL;
    char name[32], id[16], secret[32], usage[16], exp[64];
    int rv = -EACCES;

    if (!srv__bootstrap_token_shape(token))
        return -EACCES;
    (void)snprintf(name, sizeof name, "bootstrap-token-%.6s", token);
    if ((s = srv__obj_local(api, "secrets", "kube-system", name)) == NULL)
        goto out;
    if (strcmp(obj_str_or(obj_map_get(s, "type"), ""), SECRET_TYPE) != 0 ||
        !data_at(s, "token-id", id, sizeof id) ||
        strncmp(id, token, ID_LEN) != 0 || strlen(id) != ID_LEN ||
        !data_at(s, "token-secret", secret, sizeof secret) ||
        strlen(secret) != SECRET_LEN ||
        CRYPTO_memcmp(secret, token + ID_LEN + 1, SECRET_LEN) != 0 ||
        !data_at(s, "usage-bootstrap-authentication", usage, sizeof usage) ||
        strcmp(usage, "true") != 0)
        goto out;
    /* Expired, or an expiration nobody can read: refused. */
    if (obj_map_get(obj_map_get(s, "data"), "expiration") != NULL &&
        (!data_at(s, "expiration", exp, sizeof exp) || parse_time(exp) < 0 ||
         parse_time(exp) <= (int64_t)time(NULL)))
        goto out;
    if (obj_get_path(s, "metadata.deletionTimestamp") != NULL)
        goto out;
    memset(u, 0, sizeof *u);
    (void)snprintf(u->name, sizeof u->name, "system:bootstrap:%.6s", token);
    (void)snprintf(u->groups[u->n_groups++], SRV_USER_NAME_MAX,
                   "system:bootstrappers");
    if (!add_extra_groups(s, u))
        goto out;
    (void)snprintf(u->groups[u->n_groups++], SRV_USER_NAME_MAX,
                   "system:authenticated");
    rv = 0;
out:
    OPENSSL_cleanse(secret, sizeof secret);
    obj_unref(s);
    return rv;
}
