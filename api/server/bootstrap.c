/* PKI bootstrap through the replicated store.
 *
 * The cluster CA is stored sealed with the cluster token under an internal
 * key. A member first gets a linearizable read point and looks the key up:
 * present → open it (wrong token: give up with a clear message); absent →
 * create a CA, seal it and CREATE the key. Two members racing both try; the
 * loser gets EXISTS (or an unknown outcome) and starts over by reading the
 * winner's CA. Then the member's own certificates and admin.kubeconfig are
 * made and it starts serving. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>

#include "api/server/internal.h"
#include "api/server/kubeconfig.h"
#include "lib/container.h"
#include "lib/log.h"
#include "lib/mem.h"

#define RETRY_MS 200

static void read_ca(struct srv_api *api);

static void queue(struct srv_api *api, uv_work_cb work, uv_after_work_cb after)
{
    api->work_busy = true;
    uv_queue_work(api->loop, &api->work, work, after);
}

/* Common start of every after-work callback: false if closing (then the
 * api may be freed now). */
static bool work_back(struct srv_api *api)
{
    api->work_busy = false;
    if (!api->closing)
        return true;
    srv__work_done(api);
    return false;
}

/* Same for repl callbacks. */
static bool repl_back(struct srv_api *api)
{
    api->repl_busy--;
    if (!api->closing)
        return true;
    srv__work_done(api);
    return false;
}

static void fail(struct srv_api *api, const char *why)
{
    api->step = SRV_BOOT_FAILED;
    log_error("api", "%s", why);
    if (api->cfg.on_fatal != NULL)
        api->cfg.on_fatal(api, why);
}

static void on_retry(uv_timer_t *t)
{
    read_ca(container_of(t, struct srv_api, retry));
}

/* Try again from the start after a short pause (no leader yet, unknown
 * outcome of our CREATE, lost a race). */
static void retry(struct srv_api *api, const char *why)
{
    if (api->closing)
        return;
    if (api->attempts++ % 25 == 0)
        log_info("api", "waiting to set up certificates: %s", why);
    if (!api->retry_open) {
        uv_timer_init(api->loop, &api->retry);
        api->retry_open = true;
    }
    uv_timer_start(&api->retry, on_retry, RETRY_MS, 0);
}

/* ---- member material (thread pool) --------------------------------------*/

static void member_work(uv_work_t *w)
{
    struct srv_api *api = container_of(w, struct srv_api, work);
    char dir[4200], path[4300], hostname[256] = "";
    const char *dns[2];
    const char *ips[1];
    struct srv_pki_names names = {.dns = dns, .ips = ips};

    (void)snprintf(dir, sizeof dir, "%s/pki", api->data_dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        api->work_rv = err_setf(&api->work_err, -errno, "mkdir %s: %s", dir,
                                strerror(errno));
        return;
    }
    if (gethostname(hostname, sizeof hostname - 1) == 0 && hostname[0])
        dns[names.n_dns++] = hostname;
    if (strcmp(api->host, "127.0.0.1") != 0)
        ips[names.n_ips++] = api->host;
    api->work_rv = srv_pki_ensure(dir, api->ca, &names, &api->member,
                                  &api->work_err);
    if (api->work_rv != 0)
        return;
    /* Before serving starts: the loop reads the key only after this job. */
    srv_satoken_done(&api->satoken);
    api->work_rv = srv_satoken_init(&api->satoken, api->member.ca->key,
                                    &api->work_err);
    if (api->work_rv != 0)
        return;
    (void)snprintf(path, sizeof path, "%s/admin.kubeconfig", api->data_dir);
    api->work_rv = srv_kubeconfig_write(
        path, api->host, (unsigned)atoi(strrchr(api->listen, ':') + 1),
        api->member.ca, api->member.admin, &api->work_err);
}

static void member_done(uv_work_t *w, int status)
{
    struct srv_api *api = container_of(w, struct srv_api, work);
    char why[1200];
    struct err e = {0};

    (void)status;
    if (!work_back(api))
        return;
    if (api->work_rv != 0) {
        (void)snprintf(why, sizeof why, "cannot set up certificates: %s",
                       api->work_err.msg);
        fail(api, why);
        return;
    }
    if (srv__serve_start(api, &e) != 0) {
        (void)snprintf(why, sizeof why, "cannot serve the API: %s", e.msg);
        fail(api, why);
        return;
    }
    srv__boot_done(api);
}

static void make_member(struct srv_api *api)
{
    api->step = SRV_BOOT_MEMBER;
    queue(api, member_work, member_done);
}

/* ---- opening the stored CA (thread pool) ---------------------------------*/

static void open_work(uv_work_t *w)
{
    struct srv_api *api = container_of(w, struct srv_api, work);

    api->work_rv = srv_pki_open_ca(api->sealed, api->sealed_len, api->token,
                                   &api->ca, &api->work_err);
}

static void open_done(uv_work_t *w, int status)
{
    struct srv_api *api = container_of(w, struct srv_api, work);

    (void)status;
    if (!work_back(api))
        return;
    if (api->work_rv == -EACCES) {
        fail(api, "the cluster CA in the store is sealed with another "
                  "token: start every member with the same --token");
        return;
    }
    if (api->work_rv != 0) {
        char why[1200];
        (void)snprintf(why, sizeof why, "the cluster CA in the store cannot "
                       "be opened: %s", api->work_err.msg);
        fail(api, why);
        return;
    }
    log_info("api", "using the cluster CA from the store");
    make_member(api);
}

static void open_ca(struct srv_api *api, const struct store_kv *kv)
{
    mem_free(api->sealed);
    api->sealed_len = kv->value->len;
    api->sealed = mem_malloc(api->sealed_len);
    if (api->sealed == NULL) {
        retry(api, "out of memory");
        return;
    }
    memcpy(api->sealed, kv->value->data, api->sealed_len);
    api->step = SRV_BOOT_OPEN_CA;
    queue(api, open_work, open_done);
}

/* ---- creating the CA -----------------------------------------------------*/

static void stored(struct repl_req *req, const struct repl_result *res)
{
    struct srv_api *api = container_of(req, struct srv_api, write_req);

    if (!repl_back(api))
        return;
    if (res->code == 0) {
        log_info("api", "created the cluster CA and stored it sealed with the "
                 "cluster token");
        make_member(api);
        return;
    }
    /* Lost a race (EXISTS) or unknown outcome: read what is there now. */
    srv_pki_cred_free(api->ca);
    api->ca = NULL;
    retry(api, err_str(res->code));
}

static void create_work(uv_work_t *w)
{
    struct srv_api *api = container_of(w, struct srv_api, work);

    api->work_rv = srv_pki_ca_create(&api->ca, &api->work_err);
    if (api->work_rv == 0) {
        mem_free(api->sealed);
        api->sealed = NULL;
        api->work_rv = srv_pki_seal_ca(api->ca, api->token, &api->sealed,
                                       &api->sealed_len, &api->work_err);
    }
}

static void create_done(uv_work_t *w, int status)
{
    struct srv_api *api = container_of(w, struct srv_api, work);
    struct store_op op = {
        .type = STORE_OP_CREATE, .resource = SRV_INTERNAL_RESOURCE,
        .ns = "", .name = SRV_CA_KEY_NAME,
    };
    int rv;

    (void)status;
    if (!work_back(api))
        return;
    if (api->work_rv != 0) {
        fail(api, api->work_err.msg);
        return;
    }
    op.value = api->sealed;
    op.value_len = api->sealed_len;
    api->step = SRV_BOOT_STORE_CA;
    api->write_req.cb = stored;
    rv = repl_submit(api->repl, &api->write_req, &op, 1);
    if (rv == 0)
        api->repl_busy++;
    else
        retry(api, err_str(rv));
}

/* ---- looking the CA up ---------------------------------------------------*/

static void read_point(struct repl_req *req, const struct repl_result *res)
{
    struct srv_api *api = container_of(req, struct srv_api, read_req);
    const struct store_kv *kv = NULL;
    int rv;

    if (!repl_back(api))
        return;
    if (res->code != 0) {
        retry(api, err_str(res->code));
        return;
    }
    rv = store_get(repl_store(api->repl), SRV_INTERNAL_RESOURCE, "",
                   SRV_CA_KEY_NAME, 0, &kv);
    if (rv == 0) {
        open_ca(api, kv);
        store_kv_unref(kv);
    } else if (rv == -C8S_ENOTFOUND) {
        api->step = SRV_BOOT_CREATE_CA;
        queue(api, create_work, create_done);
    } else {
        retry(api, err_str(rv));
    }
}

static void read_ca(struct srv_api *api)
{
    int rv;

    api->step = SRV_BOOT_READ_CA;
    api->read_req.cb = read_point;
    rv = repl_read_index(api->repl, &api->read_req);
    if (rv == 0)
        api->repl_busy++;
    else
        retry(api, err_str(rv));
}

void srv__boot_begin(struct srv_api *api)
{
    read_ca(api);
}
