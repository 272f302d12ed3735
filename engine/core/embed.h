/* embed.h: files compiled into the binary (default rule pack, engine Lua, web assets).
 * The table is generated at build time by engine/core/embed.cmake; it ends with a NULL
 * path. Each file's bytes are NUL-terminated after `len`. */
#ifndef SB_CORE_EMBED_H
#define SB_CORE_EMBED_H
#include <stddef.h>

typedef struct sb_embedded_file {
    const char *path;   /* e.g. "rules/default/route.lua" */
    const char *data;
    size_t len;
} sb_embedded_file;

extern const sb_embedded_file sb_embedded_files[];

/* Returns the embedded file with this exact path, or NULL. */
const sb_embedded_file *sb_embed_find(const char *path);

#endif
