/* sigwatch.c — SIGINT/SIGTERM recorded by the handler, acted on by a
 * watcher thread (see sigwatch.h). */
#include "sigwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TRACKED 32

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the signal handler needs lock-free atomic ints");

/* Written by the handler, read anywhere. */
static atomic_int signal_count;          /* SIGINT/SIGTERM since sigwatch_start */
static atomic_int first_signal;
/* Set before the handler is installed, then only read. */
static void (*first_hook)(void);
static pthread_t main_thread;
static int wake[2] = {-1, -1};           /* the handler and sigwatch_stop write, the watcher reads */
/* Main thread only. */
static pthread_t watcher;
static bool watching;
/* Shared with the watcher, under lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t answered;          /* rounds_done grew */
static int rounds_done;                  /* cancel rounds finished: one per signal, two at most */
static bool stopping;
static struct {
    PGconn *pg;
    PGcancel *cancel;                    /* made at track time: PQgetCancel allocates */
} tracked[MAX_TRACKED];

/* ---- the handler: records, wakes, never blocks ----------------------------- */

static void say(const char *text)
{
    ssize_t ignored = write(STDERR_FILENO, text, strlen(text));
    (void)ignored;
}

static void on_signal(int sig)
{
    int saved = errno;
    if (!pthread_equal(pthread_self(), main_thread)) {
        pthread_kill(main_thread, sig);  /* the Lua state and its sleeps are the main thread's */
        errno = saved;
        return;
    }
    int count = atomic_fetch_add(&signal_count, 1) + 1;
    if (count >= 3) {
        say("stallrun: interrupted again; stopping now, without cleanup\n");
        signal(sig, SIG_DFL);
        raise(sig);                  /* delivered as the handler returns */
        return;
    }
    if (count == 1) {
        atomic_store(&first_signal, sig);
        if (first_hook)
            first_hook();
    } else {
        say("stallrun: still cleaning up (rolling back, releasing the deploy lock); "
            "interrupt once more to quit at once\n");
    }
    char byte = (char)sig;
    ssize_t ignored = write(wake[1], &byte, 1);   /* non-blocking: a full pipe wakes it anyway */
    (void)ignored;
    errno = saved;
}

static void catch_signals(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);        /* one handler at a time */
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, NULL);    /* no SA_RESTART: a sleep or a wait returns at once */
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- the watcher ------------------------------------------------------------ */

static struct timespec after(double seconds)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long long ns = t.tv_nsec + (long long)(seconds * 1e9);
    t.tv_sec += (time_t)(ns / 1000000000);
    t.tv_nsec = (long)(ns % 1000000000);
    return t;
}

/* Milliseconds until t (0 when it has passed). */
static int ms_until(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (long long)(t->tv_sec - now.tv_sec) * 1000 + (t->tv_nsec - now.tv_nsec) / 1000000;
    return ms <= 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms + 1;
}

static void drain(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0)
        ;
}

static bool is_stopping(void)
{
    pthread_mutex_lock(&lock);
    bool stop = stopping;
    pthread_mutex_unlock(&lock);
    return stop;
}

/* Sends a cancel request for what runs on every tracked connection, from a
 * child process (PQcancel is async-signal-safe, so it may run in the child
 * of a threaded process; the child has all signals blocked, as this thread
 * does), waits for it up to SIGWATCH_CANCEL_WAIT seconds, the deadline or a
 * stop, then kills it if it still waits and reaps it. */
static void cancel_round(const struct timespec *deadline)
{
    int done[2];
    if (pipe2(done, O_CLOEXEC) != 0)
        return;
    pthread_mutex_lock(&lock);
    bool any = false;
    for (int i = 0; i < MAX_TRACKED; i++)
        any = any || tracked[i].cancel != NULL;
    pid_t pid = any ? fork() : -1;
    if (pid == 0) {
        char ignored[256];
        for (int i = 0; i < MAX_TRACKED; i++)
            if (tracked[i].cancel != NULL)
                PQcancel(tracked[i].cancel, ignored, sizeof ignored);
        _exit(0);                    /* done[1] closes: the watcher sees it */
    }
    pthread_mutex_unlock(&lock);
    close(done[1]);
    if (pid > 0) {
        struct timespec until = after(SIGWATCH_CANCEL_WAIT);
        if (ms_until(deadline) < ms_until(&until))
            until = *deadline;
        for (int left; (left = ms_until(&until)) > 0;) {
            struct pollfd p[2] = {{done[0], POLLIN, 0}, {wake[0], POLLIN, 0}};
            if (poll(p, 2, left) < 0 && errno != EINTR)
                break;
            if (p[0].revents != 0)
                break;               /* it has exited */
            if (p[1].revents != 0) {
                drain(wake[0]);      /* the loop in watch() reads the signal count itself */
                if (is_stopping())
                    break;
            }
        }
        kill(pid, SIGKILL);          /* a zombie is still ours: no other process gets it */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    close(done[0]);
}

/* The deadline: the run did not end in time. Ends the process as the first
 * signal would have without a handler (exit status 128 + its number). */
static void stop_now(void)
{
    int sig = atomic_load(&first_signal);
    char text[400];
    snprintf(text, sizeof text, "stallrun: the run has not ended %d s after %s (a statement the "
             "server or the network does not answer, or a call that does not return); stopping "
             "now, without cleanup: the server rolls back what was not committed when it sees "
             "the connection gone\n", SIGWATCH_DEADLINE, sig == SIGTERM ? "SIGTERM" : "SIGINT");
    say(text);
    signal(sig, SIG_DFL);
    kill(getpid(), sig);             /* taken by a thread that does not block it */
    sleep(5);
    _exit(128 + sig);
}

static void *watch(void *unused)
{
    (void)unused;
    struct timespec deadline = {0, 0};
    bool armed = false;
    int rounds = 0;
    while (!is_stopping()) {
        int wanted = atomic_load(&signal_count);
        if (wanted > 2)
            wanted = 2;
        if (wanted > rounds) {
            if (!armed)
                deadline = after(SIGWATCH_DEADLINE), armed = true;
            cancel_round(&deadline);
            rounds = wanted;
            pthread_mutex_lock(&lock);
            rounds_done = rounds;
            pthread_cond_broadcast(&answered);
            pthread_mutex_unlock(&lock);
            continue;
        }
        if (armed && ms_until(&deadline) == 0)
            stop_now();
        struct pollfd p = {wake[0], POLLIN, 0};
        poll(&p, 1, armed ? ms_until(&deadline) : -1);
        drain(wake[0]);
    }
    return NULL;
}

/* ---- the interface ---------------------------------------------------------- */

int sigwatch_start(void (*on_first)(void))
{
    if (watching)
        return 0;
    atomic_store(&signal_count, 0);
    atomic_store(&first_signal, 0);
    first_hook = on_first;
    main_thread = pthread_self();
    rounds_done = 0;
    stopping = false;
    if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&answered, &attr);
    pthread_condattr_destroy(&attr);
    sigset_t all, before;            /* the watcher (and its children) take no signal */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &before);
    int rc = pthread_create(&watcher, NULL, watch, NULL);
    pthread_sigmask(SIG_SETMASK, &before, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&answered);
        close(wake[0]), close(wake[1]);
        wake[0] = wake[1] = -1;
        errno = rc;
        return -1;
    }
    watching = true;
    catch_signals(on_signal);
    return 0;
}

void sigwatch_stop(void)
{
    if (!watching)
        return;
    catch_signals(SIG_DFL);
    pthread_mutex_lock(&lock);
    stopping = true;
    pthread_mutex_unlock(&lock);
    char byte = 0;
    ssize_t ignored = write(wake[1], &byte, 1);
    (void)ignored;
    pthread_join(watcher, NULL);
    watching = false;
    pthread_cond_destroy(&answered);
    close(wake[0]), close(wake[1]);
    wake[0] = wake[1] = -1;
}

int sigwatch_signal(void)
{
    return atomic_load(&first_signal);
}

void sigwatch_wait_cancelled(void)
{
    if (!watching)
        return;
    int wanted = atomic_load(&signal_count);
    if (wanted > 2)
        wanted = 2;
    struct timespec until = after(SIGWATCH_CANCEL_WAIT + 1);
    pthread_mutex_lock(&lock);
    while (rounds_done < wanted && pthread_cond_timedwait(&answered, &lock, &until) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&lock);
}

void sigwatch_track(PGconn *pg)
{
    PGcancel *cancel = PQgetCancel(pg);
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_TRACKED && cancel != NULL; i++)
        if (tracked[i].pg == NULL) {
            tracked[i].pg = pg;
            tracked[i].cancel = cancel;
            cancel = NULL;
        }
    pthread_mutex_unlock(&lock);
    PQfreeCancel(cancel);            /* no slot left: not cancelled on a signal */
}

void sigwatch_untrack(PGconn *pg)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_TRACKED; i++)
        if (tracked[i].pg == pg) {
            PQfreeCancel(tracked[i].cancel);
            tracked[i].pg = NULL;
            tracked[i].cancel = NULL;
        }
    pthread_mutex_unlock(&lock);
}

static void on_sigpipe(int sig)
{
    (void)sig;
}

void sigwatch_catch_sigpipe(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigpipe;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
}
