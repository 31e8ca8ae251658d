/* spawn.c — child processes run side by side (see spawn.h). */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void run_child(const char *const argv[], int in_fd, int out_fd, int err_fd, int report_fd)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) {
        int e = errno;
        (void)!write(report_fd, &e, sizeof e);
        _exit(127);
    }
    execv(argv[0], (char *const *)argv);
    int e = errno;
    (void)!write(report_fd, &e, sizeof e);
    _exit(127);
}

static int make_pipes(int fds[4][2])
{
    for (int i = 0; i < 4; i++)
        fds[i][0] = fds[i][1] = -1;
    for (int i = 0; i < 4; i++)
        if (pipe2(fds[i], O_CLOEXEC) != 0)
            return -1;
    return 0;
}

static void close_pipes(int fds[4][2])
{
    for (int i = 0; i < 4; i++)
        close_fd(&fds[i][0]), close_fd(&fds[i][1]);
}

int spawn_start(struct spawn_child *c, const char *const argv[], const char *input, char *err,
                size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->out_fd = c->err_fd = -1;
    c->status = -1;
    size_t input_len = input ? strlen(input) : 0;
    int fds[4][2];                   /* stdin, stdout, stderr, exec report */
    if (input_len > 60000 || make_pipes(fds) != 0) {
        snprintf(err, errlen, "cannot start %s: %s", argv[0],
                 input_len > 60000 ? "its input is too long" : strerror(errno));
        close_pipes(fds);
        return -1;
    }
    /* the input fits in the pipe's buffer: written before the child reads */
    if (input_len > 0 && write(fds[0][1], input, input_len) != (ssize_t)input_len) {
        snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(errno));
        close_pipes(fds);
        return -1;
    }
    close_fd(&fds[0][1]);
    pid_t pid = fork();
    if (pid == 0)
        run_child(argv, fds[0][0], fds[1][1], fds[2][1], fds[3][1]);
    int saved = errno;
    close_fd(&fds[0][0]), close_fd(&fds[1][1]), close_fd(&fds[2][1]), close_fd(&fds[3][1]);
    int exec_errno = 0;
    ssize_t got = pid > 0 ? read(fds[3][0], &exec_errno, sizeof exec_errno) : 0;
    close_fd(&fds[3][0]);
    if (pid < 0 || got > 0) {
        snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(pid < 0 ? saved : exec_errno));
        if (pid > 0)
            waitpid(pid, NULL, 0);
        close_pipes(fds);
        return -1;
    }
    c->pid = pid;
    c->out_fd = fds[1][0];
    c->err_fd = fds[2][0];
    fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
    fcntl(c->err_fd, F_SETFL, O_NONBLOCK);
    return 0;
}

/* Appends what fd has to *buf (up to cap bytes kept); closes it at EOF. */
static void drain(int *fd, char **buf, size_t *len, size_t cap)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(*fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            close_fd(fd);
            return;
        }
        size_t keep = *len >= cap ? 0 : (size_t)n < cap - *len ? (size_t)n : cap - *len;
        if (keep == 0)
            continue;
        char *grown = realloc(*buf, *len + keep + 1);
        if (grown == NULL)
            abort();
        memcpy(grown + *len, chunk, keep);
        *len += keep;
        grown[*len] = '\0';
        *buf = grown;
    }
}

static void reap(struct spawn_child *c, int options)
{
    if (c->pid <= 0)
        return;
    int wstatus;
    pid_t got;
    do
        got = waitpid(c->pid, &wstatus, options);
    while (got < 0 && errno == EINTR);
    if (got == 0)
        return;
    c->pid = 0;
    if (got < 0)
        c->status = 255;
    else if (WIFSIGNALED(wstatus))
        c->signal = WTERMSIG(wstatus), c->status = 128 + c->signal;
    else
        c->status = WEXITSTATUS(wstatus);
}

size_t spawn_pump(struct spawn_child *const *children, size_t n, int timeout_ms)
{
    struct pollfd fds[2 * 256 + 1];
    struct spawn_child *owner[2 * 256 + 1];
    size_t count = 0;
    for (size_t i = 0; i < n && count + 2 <= sizeof fds / sizeof fds[0]; i++) {
        struct spawn_child *c = children[i];
        int *pair[2] = {&c->out_fd, &c->err_fd};
        for (int k = 0; k < 2; k++)
            if (*pair[k] >= 0) {
                fds[count] = (struct pollfd){.fd = *pair[k], .events = POLLIN};
                owner[count++] = c;
            }
    }
    if (count > 0 && poll(fds, count, timeout_ms) > 0)
        for (size_t i = 0; i < count; i++) {
            if (fds[i].revents == 0)
                continue;
            struct spawn_child *c = owner[i];
            if (fds[i].fd == c->out_fd)
                drain(&c->out_fd, &c->out, &c->out_len, SPAWN_MAX_STDOUT);
            else
                drain(&c->err_fd, &c->err, &c->err_len, SPAWN_MAX_STDERR);
        }
    size_t finished = 0;
    for (size_t i = 0; i < n; i++) {
        struct spawn_child *c = children[i];
        if (c->out_fd < 0 && c->err_fd < 0)
            reap(c, 0);              /* both pipes closed: it has ended (or closes them soon) */
        else
            reap(c, WNOHANG);        /* ended while something it started holds its pipes */
        if (c->status >= 0) {        /* what it wrote before it ended is still in the pipes */
            if (c->out_fd >= 0)
                drain(&c->out_fd, &c->out, &c->out_len, SPAWN_MAX_STDOUT);
            if (c->err_fd >= 0)
                drain(&c->err_fd, &c->err, &c->err_len, SPAWN_MAX_STDERR);
            close_fd(&c->out_fd), close_fd(&c->err_fd);
            finished++;
        }
    }
    return finished;
}

void spawn_signal(struct spawn_child *c, int sig)
{
    if (c->pid > 0)
        kill(-c->pid, sig);
}

void spawn_release(struct spawn_child *c)
{
    if (c->pid > 0) {
        kill(-c->pid, SIGTERM);
        for (int waited = 0; c->pid > 0 && waited < SPAWN_TERM_GRACE_MS; waited += 20) {
            reap(c, WNOHANG);
            if (c->pid > 0)
                nanosleep(&(struct timespec){0, 20 * 1000000L}, NULL);
        }
        if (c->pid > 0)
            kill(-c->pid, SIGKILL);
        reap(c, 0);
    }
    close_fd(&c->out_fd), close_fd(&c->err_fd);
    free(c->out), free(c->err);
    c->out = c->err = NULL;
    c->out_len = c->err_len = 0;
}
