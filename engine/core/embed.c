/* embed.c: look-up in the build-time table of embedded files (see embed.h). */
#include <string.h>
#include "core/embed.h"

const sb_embedded_file *sb_embed_find(const char *path) {
    for (const sb_embedded_file *f = sb_embedded_files; f->path; f++)
        if (strcmp(f->path, path) == 0) return f;
    return NULL;
}
