/* readfile.c — a whole regular file into memory (see readfile.h). */
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

char *readfile(const char *path, int open_flags, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | open_flags);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *text = NULL;
    int failed = fstat(fd, &st) != 0     ? errno
                 : !S_ISREG(st.st_mode)  ? EINVAL
                 : (size_t)st.st_size > max ? EFBIG
                 : (text = malloc((size_t)st.st_size + 1)) == NULL ? ENOMEM : 0;
    size_t n = 0;
    ssize_t got = 1;
    while (!failed && n < (size_t)st.st_size && (got = read(fd, text + n, (size_t)st.st_size - n)) > 0)
        n += (size_t)got;                /* a short read of a regular file is its end */
    if (!failed && got < 0)
        failed = errno;
    close(fd);
    if (failed) {
        free(text);
        errno = failed;
        return NULL;
    }
    text[n] = '\0';
    *len = n;
    return text;
}
