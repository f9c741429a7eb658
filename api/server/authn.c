/* Authentication (authn.h). */
#include "api/server/authn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "lib/mem.h"

/* Tokens are kept as SHA-256 digests and compared in constant time: the
 * time a lookup takes says nothing about how close a guess was. */
struct srv_token_user {
    unsigned char digest[32];
    struct srv_user user;
};

#define MAX_LINE 4096
#define MAX_TOKENS 100000

static void digest_of(const char *token, size_t len, unsigned char out[32])
{
    unsigned int n = 32;

    (void)EVP_Digest(token, len, out, &n, EVP_sha256(), NULL);
}

/* ---- the token file ------------------------------------------------------*/

/* Split one CSV field at *@p into @out: plain, or in double quotes (with
 * "" for a quote). Advances past the comma. -1 on a bad field. */
static int csv_field(const char **p, char *out, size_t size)
{
    const char *s = *p;
    size_t n = 0;

    if (*s == '"') {
        for (s++;; s++) {
            if (*s == '\0')
                return -1;
            if (*s == '"') {
                if (s[1] != '"')
                    break;
                s++;
            }
            if (n + 1 >= size)
                return -1;
            out[n++] = *s;
        }
        s++;
    } else {
        for (; *s != '\0' && *s != ','; s++) {
            if (*s == '"' || n + 1 >= size)
                return -1;
            out[n++] = *s;
        }
    }
    out[n] = '\0';
    if (*s == ',')
        s++;
    else if (*s != '\0')
        return -1;
    *p = s;
    return 0;
}

static int add_groups(struct srv_user *u, const char *list)
{
    while (*list != '\0') {
        const char *comma = strchr(list, ',');
        size_t n = comma != NULL ? (size_t)(comma - list) : strlen(list);
        if (n > 0) {
            if (u->n_groups + 1 >= SRV_USER_GROUPS_MAX || n >= SRV_USER_NAME_MAX)
                return -1;
            memcpy(u->groups[u->n_groups], list, n);
            u->groups[u->n_groups++][n] = '\0';
        }
        list += n + (comma != NULL);
    }
    return 0;
}

static int parse_line(const char *line, struct srv_token_user *t)
{
    char token[SRV_USER_NAME_MAX], groups[MAX_LINE];
    const char *p = line;

    memset(t, 0, sizeof *t);
    groups[0] = '\0';
    if (csv_field(&p, token, sizeof token) != 0 || token[0] == '\0' ||
        csv_field(&p, t->user.name, sizeof t->user.name) != 0 ||
        t->user.name[0] == '\0' || p[-1] != ',' /* a uid column follows */ ||
        csv_field(&p, t->user.uid, sizeof t->user.uid) != 0 ||
        (*p != '\0' && csv_field(&p, groups, sizeof groups) != 0) ||
        *p != '\0' || add_groups(&t->user, groups) != 0) {
        OPENSSL_cleanse(token, sizeof token);
        return -1;
    }
    digest_of(token, strlen(token), t->digest);
    OPENSSL_cleanse(token, sizeof token);
    return 0;
}

static int read_tokens(struct srv_authn *a, const char *path, struct err *e)
{
    FILE *f = fopen(path, "r");
    char line[MAX_LINE + 2];
    size_t cap = 0;
    int lineno = 0, rv = 0;

    if (f == NULL)
        return err_setf(e, -errno, "--token-auth-file %s: %s", path,
                        strerror(errno));
    while (rv == 0 && fgets(line, sizeof line, f) != NULL) {
        size_t n = strlen(line);
        lineno++;
        if (n > MAX_LINE) {
            rv = err_setf(e, -EINVAL, "--token-auth-file %s:%d: line too long",
                          path, lineno);
            break;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        if (a->n_tokens == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            void *v = ncap > MAX_TOKENS ? NULL
                                        : mem_realloc(a->tokens,
                                                      ncap * sizeof *a->tokens);
            if (v == NULL) {
                rv = err_setf(e, -ENOMEM, "--token-auth-file %s: too many "
                              "tokens", path);
                break;
            }
            a->tokens = v;
            cap = ncap;
        }
        if (parse_line(line, &a->tokens[a->n_tokens]) != 0)
            rv = err_setf(e, -EINVAL, "--token-auth-file %s:%d: expected "
                          "token,user,uid[,\"group1,group2\"] (at most %d "
                          "groups)", path, lineno, SRV_USER_GROUPS_MAX - 1);
        else
            a->n_tokens++;
    }
    OPENSSL_cleanse(line, sizeof line);
    if (rv == 0 && ferror(f))
        rv = err_setf(e, -EIO, "--token-auth-file %s: read error", path);
    fclose(f);
    return rv;
}

int srv_authn_init(struct srv_authn *a, const char *token_file,
                   bool anonymous, struct err *e)
{
    int rv = 0;

    memset(a, 0, sizeof *a);
    a->anonymous = anonymous;
    if (token_file != NULL && (rv = read_tokens(a, token_file, e)) != 0)
        srv_authn_done(a);
    return rv;
}

void srv_authn_done(struct srv_authn *a)
{
    if (a->tokens != NULL)
        OPENSSL_cleanse(a->tokens, a->n_tokens * sizeof *a->tokens);
    mem_free(a->tokens);
    a->tokens = NULL;
    a->n_tokens = 0;
}

/* ---- who sent a request ------------------------------------------------*/

static void set_authenticated(struct srv_user *u)
{
    if (u->n_groups < SRV_USER_GROUPS_MAX)
        (void)snprintf(u->groups[u->n_groups++], SRV_USER_NAME_MAX, "%s",
                       "system:authenticated");
}

/* Entry @i of @subj as UTF-8 into @out (SRV_USER_NAME_MAX bytes): false
 * when empty, too long or holding a NUL. */
static bool entry_text(const X509_NAME *subj, int i, char *out)
{
    const ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, d);
    bool ok = n > 0 && n < SRV_USER_NAME_MAX &&
              memchr(utf8, '\0', (size_t)n) == NULL;

    if (ok) {
        memcpy(out, utf8, (size_t)n);
        out[n] = '\0';
    }
    OPENSSL_free(utf8);
    return ok;
}

bool srv_authn_cert_user(X509 *cert, struct srv_user *u)
{
    const X509_NAME *subj = X509_get_subject_name(cert);
    int i = -1;

    int cn = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);

    memset(u, 0, sizeof *u);
    /* Exactly one CN; names as UTF-8, refused (never cut) when they hold a
     * NUL or do not fit: a cut name could be somebody else's. */
    if (cn < 0 || X509_NAME_get_index_by_NID(subj, NID_commonName, cn) >= 0 ||
        !entry_text(subj, cn, u->name))
        return false;
    while ((i = X509_NAME_get_index_by_NID(subj, NID_organizationName, i)) >=
           0) {
        if (u->n_groups + 1 >= SRV_USER_GROUPS_MAX ||
            !entry_text(subj, i, u->groups[u->n_groups]))
            return false;
        u->n_groups++;
    }
    set_authenticated(u);
    return true;
}

const char *srv_authn_bearer(const struct srv_req *req)
{
    const char *h = srv_req_header(req, "Authorization");

    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    for (h += 7; *h == ' '; h++)
        ;
    return h;
}

int srv_authn_user(const struct srv_authn *a, const struct srv_req *req,
                   struct srv_user *u)
{
    const char *token = srv_authn_bearer(req);
    X509 *cert;

    if (token != NULL) {
        unsigned char d[32];
        const struct srv_token_user *found = NULL;

        digest_of(token, strlen(token), d);
        for (size_t i = 0; i < a->n_tokens; i++)
            if (CRYPTO_memcmp(d, a->tokens[i].digest, 32) == 0)
                found = &a->tokens[i];
        if (found == NULL || token[0] == '\0')
            return -ENOENT;
        *u = found->user;
        set_authenticated(u);
        return 0;
    }
    if ((cert = srv_req_peer_cert(req)) != NULL && srv_authn_cert_user(cert, u))
        return 0;
    memset(u, 0, sizeof *u);
    (void)snprintf(u->name, sizeof u->name, "system:anonymous");
    (void)snprintf(u->groups[0], sizeof u->groups[0],
                   "system:unauthenticated");
    u->n_groups = 1;
    u->anonymous = true;
    return 0;
}

bool srv_authn_public_path(const char *path)
{
    static const char *const roots[] = {"/healthz", "/livez", "/readyz"};

    if (strcmp(path, "/version") == 0 || strcmp(path, "/version/") == 0)
        return true;
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(roots[i]);
        if (strncmp(path, roots[i], n) == 0 &&
            (path[n] == '\0' || path[n] == '/'))
            return true;
    }
    return false;
}
