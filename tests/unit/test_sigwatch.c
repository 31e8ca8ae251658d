/* test_sigwatch.c — SIGINT/SIGTERM recorded by the handler and acted on by
 * the watcher: the first calls the host's hook once, on the main thread; a
 * second only says it is still cleaning up; the signal is remembered after
 * the watch ends. (The third signal and the 30 s deadline end the process:
 * tests/faults/test_signals.sh covers them.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sigwatch.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

static volatile sig_atomic_t hook_calls;
static pthread_t hook_thread;

static void hook(void)
{
    hook_calls++;
    hook_thread = pthread_self();
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sigwatch_start__first_signal_calls_the_hook_once(void **state)
{
    (void)state;
    hook_calls = 0;
    assert_int_equal(sigwatch_start(hook), 0);
    assert_int_equal(sigwatch_signal(), 0);
    raise(SIGINT);
    assert_int_equal(hook_calls, 1);
    assert_true(pthread_equal(hook_thread, pthread_self()));
    assert_int_equal(sigwatch_signal(), SIGINT);
    double started = now();
    sigwatch_wait_cancelled();                  /* nothing tracked: answered at once */
    assert_true(now() - started < SIGWATCH_CANCEL_WAIT);
    raise(SIGTERM);                             /* the second: said on stderr, no hook */
    assert_int_equal(hook_calls, 1);
    assert_int_equal(sigwatch_signal(), SIGINT);   /* the first one's */
    sigwatch_wait_cancelled();
    sigwatch_stop();
    sigwatch_stop();                            /* idempotent */
    assert_int_equal(sigwatch_signal(), SIGINT);   /* still known after the watch */
}

static void *raise_on_this_thread(void *sig)
{
    raise(*(int *)sig);                         /* lands here; passed on to the main thread */
    return NULL;
}

static void sigwatch_start__a_signal_on_another_thread_reaches_the_main_one(void **state)
{
    (void)state;
    hook_calls = 0;
    assert_int_equal(sigwatch_start(hook), 0);
    assert_int_equal(sigwatch_signal(), 0);     /* a new watch forgets the last one's */
    int sig = SIGTERM;
    pthread_t other;
    assert_int_equal(pthread_create(&other, NULL, raise_on_this_thread, &sig), 0);
    pthread_join(other, NULL);
    for (int i = 0; i < 100 && hook_calls == 0; i++) {
        struct timespec ms = {0, 10000000};
        nanosleep(&ms, NULL);
    }
    assert_int_equal(hook_calls, 1);
    assert_true(pthread_equal(hook_thread, pthread_self()));
    assert_int_equal(sigwatch_signal(), SIGTERM);
    sigwatch_stop();
}

static void sigwatch_track__a_connection_without_a_socket(void **state)
{
    (void)state;
    PGconn *pg = PQconnectdb("host=/nonexistent/stallmig-test-socket dbname=x");
    sigwatch_track(pg);                         /* no cancel key: nothing to track */
    sigwatch_untrack(pg);
    sigwatch_untrack(pg);
    PQfinish(pg);
}

static void sigwatch_catch_sigpipe__a_closed_pipe_does_not_kill(void **state)
{
    (void)state;
    sigwatch_catch_sigpipe();
    raise(SIGPIPE);                             /* the default action would end this test */
    assert_true(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sigwatch_start__first_signal_calls_the_hook_once),
        cmocka_unit_test(sigwatch_start__a_signal_on_another_thread_reaches_the_main_one),
        cmocka_unit_test(sigwatch_track__a_connection_without_a_socket),
        cmocka_unit_test(sigwatch_catch_sigpipe__a_closed_pipe_does_not_kill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
