/* A stand-in daemon for testing tests/lib/proc: it logs, listens on a port
 * after a delay, and exits on SIGTERM or after a crash request.
 *
 * usage: fake_daemon PORT DELAY_MS [crash]  */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int listen_on(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(fd, 16) != 0)
        return -1;
    return fd;
}

int main(int argc, char **argv)
{
    int port, delay_ms, fd;

    if (argc < 3) {
        fprintf(stderr, "usage: fake_daemon PORT DELAY_MS [crash]\n");
        return 2;
    }
    port = atoi(argv[1]);
    delay_ms = atoi(argv[2]);
    signal(SIGTERM, on_term);
    log_info("fake", "starting, will listen on %d in %d ms", port, delay_ms);
    if (argc > 3 && strcmp(argv[3], "crash") == 0) {
        log_error("fake", "crashing on purpose");
        return 3;
    }
    usleep((useconds_t)delay_ms * 1000);
    fd = listen_on(port);
    if (fd < 0) {
        log_error("fake", "cannot listen on %d", port);
        return 1;
    }
    log_info("fake", "ready");
    while (!stop)
        pause();
    log_info("fake", "stopping");
    close(fd);
    return 0;
}
