/* c8s-master's admin subcommands: status and membership of a running
 * cluster, over the forward channel of any member. */
#ifndef C8S_CMD_ADMIN_H
#define C8S_CMD_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

/* The program named in messages ("c8s-master" unless set). */
extern const char *admin_prog;

/* True if @arg names an admin subcommand. */
bool admin_is_command(const char *arg);

/* Read the first line of @path (a token) into @buf. Returns NULL, or why
 * it failed (an error message or "empty"). */
const char *admin_read_token_file(const char *path, char *buf, size_t size);

/* Run "status|member ..." (argv[0] is the subcommand). Returns the exit
 * status: 0, 1 for a failure the cluster reported, 2 for usage errors. */
int admin_main(int argc, char **argv);

#endif /* C8S_CMD_ADMIN_H */
