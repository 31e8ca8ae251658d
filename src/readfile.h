/* readfile.h — a whole regular file into memory. Plain C (no Lua). */
#ifndef STALLMIG_READFILE_H
#define STALLMIG_READFILE_H

#include <stddef.h>

/* The file at path, malloc'd and NUL-terminated, its length in *len; NULL
 * with errno set when it cannot be: EINVAL when it is not a regular file
 * (a FIFO, a device: nothing is read from it), EFBIG when it is larger than
 * max bytes. open_flags are added to O_RDONLY | O_CLOEXEC | O_NONBLOCK
 * (O_NOFOLLOW: not through a symbolic link). */
char *readfile(const char *path, int open_flags, size_t max, size_t *len);

#endif
