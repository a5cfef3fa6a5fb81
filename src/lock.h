/*
 * The process's one lock (the pool's, pool.c): a pthread mutex, or on
 * Windows a slim reader/writer lock, which needs no library beyond the
 * system's and no initialisation at run time.
 */
#ifndef CORO_LOCK_H
#define CORO_LOCK_H

#if defined(_WIN32)
#include <windows.h>

typedef SRWLOCK coro__lock_t;
#define CORO__LOCK_INIT SRWLOCK_INIT

static inline void coro__lock(coro__lock_t *lock)
{
    AcquireSRWLockExclusive(lock);
}

static inline void coro__unlock(coro__lock_t *lock)
{
    ReleaseSRWLockExclusive(lock);
}

/* A lock as new, for a fork()ed child: no fork on Windows. */
static inline void coro__lock_reset(coro__lock_t *lock)
{
    InitializeSRWLock(lock);
}
#else
#include <pthread.h>

typedef pthread_mutex_t coro__lock_t;
#define CORO__LOCK_INIT PTHREAD_MUTEX_INITIALIZER

static inline void coro__lock(coro__lock_t *lock)
{
    pthread_mutex_lock(lock);
}

static inline void coro__unlock(coro__lock_t *lock)
{
    pthread_mutex_unlock(lock);
}

/* A lock as new, for a fork()ed child, where the parent's thread that held
 * it does not exist. */
static inline void coro__lock_reset(coro__lock_t *lock)
{
    pthread_mutex_init(lock, NULL);
}
#endif

#endif /* CORO_LOCK_H */
