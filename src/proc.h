/* proc.h — run a program with an argument vector: fork/exec, never a shell.
 * Plain C. */
#ifndef STALLMIG_PROC_H
#define STALLMIG_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* The unprivileged user a root process runs PostgreSQL's programs as. */
#define PROC_SERVER_USER "postgres"

/* Runs argv[0] (a path) with argv, stdin from /dev/null, stdout and stderr
 * appended to log_path (or /dev/null when NULL). With as_user non-NULL and
 * this process root, the child first becomes that user. Returns the exit
 * status (0..255), or -1 with err filled when it could not be run. */
int proc_run(const char *const argv[], const char *as_user, const char *log_path,
             char *err, size_t errlen);

/* The same, with more control: stdout_fd (>= 0) receives the program's
 * stdout; envp (NULL: this process's environment) is the program's
 * environment, built before fork (the child may not allocate); a program
 * name without '/' is looked up in PATH. */
struct proc_options {
    const char *as_user;
    const char *log_path;            /* stderr (and stdout when stdout_fd < 0) */
    int stdout_fd;
    char *const *envp;
};
int proc_run_with(const char *const argv[], const struct proc_options *opts, char *err,
                  size_t errlen);

/* Runs argv (a program name without '/' is looked up in PATH) in directory
 * dir with stdin from /dev/null; everything it writes on stdout and stderr
 * is handed to on_output as it arrives (one stream, in the order written).
 * A SIGINT/SIGTERM this process gets is passed on to it. Returns its exit
 * status (0..255, or 128 + the signal that ended it), or -1 with err filled
 * when it could not be run. */
int proc_run_streamed(const char *const argv[], const char *dir,
                      void (*on_output)(const char *data, size_t len, void *user), void *user,
                      char *err, size_t errlen);

/* The uid and gid of user; 0 on success, -1 when there is no such user. */
int proc_user_ids(const char *user, uid_t *uid, gid_t *gid);

#endif
