/*
 * Running part of a test in a forked child, a program of its own: for what
 * must crash, or change the process (limits, signal dispositions), or
 * check state that fork() copies. No cmocka in the child: it reports by
 * its exit status, or by dying.
 */
#ifndef CORO_TEST_CHILD_H
#define CORO_TEST_CHILD_H

#include "test_support.h"

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

struct child_result {
    int status;     /* as waitpid() gives it */
    char out[512];  /* what the child wrote on stdout */
    char err[4096]; /* and on stderr */
};

static inline void child_read_all(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;

    while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
}

/* Runs fn(arg) in a forked child, with SIGSEGV and SIGBUS as a program
 * starts with them (not cmocka's handlers), and collects its wait status
 * and output. The child exits with what fn returns, if it returns. */
static inline void run_in_child(int (*fn)(void *), void *arg, struct child_result *result)
{
    int out[2], err[2];
    pid_t pid;

    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(err), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        close(out[0]);
        close(err[0]);
        int status = fn(arg);

        fflush(NULL);
        _exit(status);
    }
    close(out[1]);
    close(err[1]);
    child_read_all(out[0], result->out, sizeof result->out);
    child_read_all(err[0], result->err, sizeof result->err);
    close(out[0]);
    close(err[0]);
    assert_int_equal(waitpid(pid, &result->status, 0), pid);
}

/* The exit status of a child that must have exited (not died): fails the
 * test, with what it wrote on stderr, otherwise. */
static inline int child_exit_status(const struct child_result *result)
{
    if (!WIFEXITED(result->status))
        print_error("child died of signal %d; its stderr:\n%s\n", WTERMSIG(result->status),
                    result->err);
    assert_true(WIFEXITED(result->status));
    return WEXITSTATUS(result->status);
}

#endif /* CORO_TEST_CHILD_H */
