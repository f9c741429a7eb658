/* A Jepsen-style history: every operation's invocation and completion, as
 * clients saw them, in the order they happened.
 *
 * On disk, one event per line, fields separated by spaces:
 *
 *   TIME_NS PROCESS TYPE F KEY VALUE [NEW]
 *
 * TYPE is invoke, ok, fail or info (an outcome nobody knows: a timeout, a
 * lost connection, -C8S_EUNKNOWN; it may or may not have happened). F is
 * read, write, cas or event. VALUE is an integer or "-" for none: a read's
 * invocation has none, its completion the value read ("-" when the key
 * did not exist); a write carries the value written; a cas the value
 * expected, and NEW the value it sets. Any line may end with rev=N, the
 * resourceVersion the server answered with (on ok completions).
 *
 * "TIME PROCESS ok event KEY REV" is a watch event delivered to watcher
 * PROCESS: a change of KEY at revision REV. It stands alone (no invoke).
 * "TIME PROCESS ok watch KEY REV" says watcher PROCESS started watching
 * collection KEY after revision REV: every change after it is due.
 *
 * The set workload: "add SET V" is an operation like a write (invoke,
 * then ok, fail or info); "TIME PROCESS ok seen SET V" stands alone and
 * says final reader PROCESS found V in SET.
 *
 * The list workload: "list KEY" is a paged LIST of collection KEY (a
 * generation of adds with "add KEY V"); its ok completion is
 * "ok list KEY COUNT rev=R", R the revision of the list's snapshot, and is
 * followed at once by COUNT lines "TIME PROCESS ok item KEY V rev=N", the
 * objects listed (V added at revision N). "ok list KEY - rev=R" is a list
 * kept for its revision only, its items not recorded.
 *
 * Blank lines and lines starting with '#' are skipped; the workload's
 * first line is "# start UNIX_NS", the wall clock when TIME_NS was 0 (for
 * plots against the nemesis log). A process has at
 * most one operation outstanding; after an info completion it never
 * invokes again (a client that lost track of an operation takes a new
 * process number). */
#ifndef C8S_JEPSEN_HISTORY_H
#define C8S_JEPSEN_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define JEP_KEY_MAX 64
#define JEP_NIL INT64_MIN /* no value: a key that does not exist */

enum jep_type { JEP_INVOKE, JEP_OK, JEP_FAIL, JEP_INFO };
enum jep_f {
    JEP_READ, JEP_WRITE, JEP_CAS, JEP_EVENT, JEP_ADD, JEP_SEEN, JEP_LIST,
    JEP_ITEM, JEP_WATCH
};

struct jep_event {
    int64_t time_ns;
    int process;
    enum jep_type type;
    enum jep_f f;
    char key[JEP_KEY_MAX];
    int64_t value; /* JEP_NIL for "-" */
    int64_t new_value; /* cas only */
    int64_t rev;       /* rev=N, or 0 */
    size_t line; /* in the file, for messages */
};

struct jep_history {
    struct jep_event *ev;
    size_t len, cap;
};

/* Read the history at @path. Errors name the file, line and field. */
int jep_history_load(const char *path, struct jep_history *h, struct err *e);

/* Parse @len bytes of history text (@name names it in errors). */
int jep_history_parse(const char *text, size_t len, const char *name,
                      struct jep_history *h, struct err *e);

void jep_history_free(struct jep_history *h);

#endif /* C8S_JEPSEN_HISTORY_H */
