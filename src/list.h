/*
 * An intrusive doubly-linked list: a link inside each item, a list that is
 * a pointer to the first link, NULL-terminated both ways (a debugger walks
 * one: debugger.h). Removal takes no search.
 */
#ifndef CORO_LIST_H
#define CORO_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct coro__link {
    struct coro__link *next, *prev;
};

struct coro__list {
    struct coro__link *first;
};

/* The item that holds link, as a pointer to type. */
#define CORO__ITEM(link, type, member) ((type *)(void *)((char *)(link) - offsetof(type, member)))

static inline bool coro__list_empty(const struct coro__list *list)
{
    return list->first == NULL;
}

static inline void coro__list_push(struct coro__list *list, struct coro__link *link)
{
    link->prev = NULL;
    link->next = list->first;
    if (list->first != NULL)
        list->first->prev = link;
    list->first = link;
}

static inline void coro__list_remove(struct coro__list *list, struct coro__link *link)
{
    if (link->prev != NULL)
        link->prev->next = link->next;
    else
        list->first = link->next;
    if (link->next != NULL)
        link->next->prev = link->prev;
    link->next = link->prev = NULL;
}

#endif /* CORO_LIST_H */
