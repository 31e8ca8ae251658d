/* proc.c — fork/exec with an argument vector (see proc.h). */
#include "proc.h"

#include "sigwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int proc_user_ids(const char *user, uid_t *uid, gid_t *gid)
{
    struct passwd *pw = getpwnam(user);
    if (pw == NULL)
        return -1;
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

/* In a child: it dies with stallrun (kill -9 included) instead of running
 * on orphaned, e.g. a pg_dump that would finish an unrecorded backup. */
static void die_with_parent(pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
        _exit(126);                  /* the parent is already gone */
}

/* In the child: redirect, drop privileges, exec. Never returns. */
static void child(const char *const argv[], const struct proc_options *o)
{
    int in = open("/dev/null", O_RDONLY);
    int log = open(o->log_path ? o->log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
    int out = o->stdout_fd >= 0 ? o->stdout_fd : log;
    if (in < 0 || log < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(log, 2) < 0)
        _exit(126);
    if (o->as_user && geteuid() == 0) {
        uid_t uid;
        gid_t gid;
        if (proc_user_ids(o->as_user, &uid, &gid) != 0 || initgroups(o->as_user, gid) != 0 ||
            setgid(gid) != 0 || setuid(uid) != 0)
            _exit(126);
    }
    if (chdir("/") != 0)
        _exit(126);
    char *const *envp = o->envp ? o->envp : environ;
    if (strchr(argv[0], '/'))
        execve(argv[0], (char *const *)argv, envp);
    else
        execvpe(argv[0], (char *const *)argv, envp);
    _exit(127);
}

int proc_run_with(const char *const argv[], const struct proc_options *opts, char *err,
                  size_t errlen)
{
    fflush(NULL);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(errno));
        return -1;
    }
    if (pid == 0) {
        die_with_parent(parent);
        child(argv, opts);
    }
    int status = 0;
    bool passed_on = false;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(err, errlen, "lost %s: %s", argv[0], strerror(errno));
            return -1;
        }
        /* SIGINT/SIGTERM: the child stops too, rather than outliving a run
         * that sigwatch ends SIGWATCH_DEADLINE seconds later */
        if (!passed_on && sigwatch_signal() != 0)
            passed_on = kill(pid, sigwatch_signal()) == 0;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        snprintf(err, errlen, "cannot run %s (not installed, or not on PATH)", argv[0]);
        return -1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 126) {
        snprintf(err, errlen, "cannot prepare %s (log %s, user %s)", argv[0],
                 opts->log_path ? opts->log_path : "-", opts->as_user ? opts->as_user : "-");
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int proc_run(const char *const argv[], const char *as_user, const char *log_path,
             char *err, size_t errlen)
{
    struct proc_options o = {as_user, log_path, -1, NULL};
    return proc_run_with(argv, &o, err, errlen);
}

/* In the child of proc_run_streamed: both streams into the pipe, then exec.
 * A failure before the program runs is reported as its errno through
 * report (closed on exec), so the parent tells it from the program's own
 * exit status 126 or 127. */
static void streamed_child(const char *const argv[], const char *dir, int out, int report,
                           char *const envp[])
{
    int in = open("/dev/null", O_RDONLY);
    int err[2] = {1, 0};             /* {step: 1 before exec, 2 exec; errno} */
    if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 ||
        (dir && chdir(dir) != 0))
        err[1] = errno;
    else if (strchr(argv[0], '/'))
        execve(argv[0], (char *const *)argv, envp);
    else
        execvpe(argv[0], (char *const *)argv, envp);
    if (err[1] == 0)
        err[0] = 2, err[1] = errno;
    ssize_t ignored = write(report, err, sizeof err);
    (void)ignored;
    _exit(127);
}

/* This process's environment without PGPASSWORD (a team's command gets no
 * password of stallrun's); built before fork. */
static char **without_pgpassword(void)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **envp = calloc(n + 1, sizeof *envp);
    for (size_t i = 0, k = 0; envp && i < n; i++)
        if (strncmp(environ[i], "PGPASSWORD=", 11) != 0)
            envp[k++] = environ[i];
    return envp;
}

/* Reads the child's output until it closes its end; a signal on the way is
 * passed on to it once. */
static void drain(int fd, pid_t pid, void (*on_output)(const char *, size_t, void *), void *user)
{
    char buf[4096];
    bool passed_on = false;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            on_output(buf, (size_t)n, user);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            if (!passed_on && sigwatch_signal() != 0)
                passed_on = kill(pid, sigwatch_signal()) == 0;
            continue;
        }
        return;                      /* end of output, or an error reading it */
    }
}

int proc_run_streamed(const char *const argv[], const char *dir,
                      void (*on_output)(const char *data, size_t len, void *user), void *user,
                      char *err, size_t errlen)
{
    int fds[2], report[2];
    char **envp = without_pgpassword();
    if (envp == NULL || pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(envp ? errno : ENOMEM));
        free(envp);
        return -1;
    }
    if (pipe2(report, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(errno));
        close(fds[0]), close(fds[1]), free(envp);
        return -1;
    }
    fflush(NULL);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(errno));
        close(fds[0]), close(fds[1]), close(report[0]), close(report[1]), free(envp);
        return -1;
    }
    if (pid == 0) {
        die_with_parent(parent);
        close(fds[0]);
        close(report[0]);
        streamed_child(argv, dir, fds[1], report[1], envp);
    }
    free(envp);
    close(fds[1]);
    close(report[1]);
    drain(fds[0], pid, on_output, user);
    close(fds[0]);
    int failed[2] = {0, 0};          /* what streamed_child reports: step, errno */
    ssize_t got = read(report[0], failed, sizeof failed);
    close(report[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            snprintf(err, errlen, "lost %s: %s", argv[0], strerror(errno));
            return -1;
        }
    if (got == (ssize_t)sizeof failed) {        /* it never ran */
        if (failed[0] == 2 && failed[1] == ENOENT && !strchr(argv[0], '/'))
            snprintf(err, errlen, "cannot run %s (not installed, or not on PATH)", argv[0]);
        else if (failed[0] == 1 && dir)
            snprintf(err, errlen, "cannot run %s in %s: %s", argv[0], dir, strerror(failed[1]));
        else
            snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(failed[1]));
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
