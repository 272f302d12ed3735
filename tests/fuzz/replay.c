/* replay.c: main() for the fuzz targets when they are not built with libFuzzer. Each
 * argument is a file or a folder of files (read in name order); every file is fed once
 * to LLVMFuzzerTestOneInput. A crash, a sanitizer report or a leak fails the ctest. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fuzz.h"

#define REPLAY_MAX_FILE ((size_t)4 << 20)

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return -1; }
    uint8_t *buf = malloc(REPLAY_MAX_FILE);
    if (!buf) { fclose(f); return -1; }
    size_t n = fread(buf, 1, REPLAY_MAX_FILE, f);
    fclose(f);
    /* a copy of exactly n bytes, so ASan sees reads past the input */
    uint8_t *in = malloc(n ? n : 1);
    if (!in) { free(buf); return -1; }
    memcpy(in, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(in, n);
    free(in);
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    long files = 0;
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st)) { perror(argv[i]); bad = 1; continue; }
        if (!S_ISDIR(st.st_mode)) { bad |= run_file(argv[i]) != 0; files++; continue; }
        DIR *d = opendir(argv[i]);
        if (!d) { perror(argv[i]); bad = 1; continue; }
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                char **nn = realloc(names, cap * sizeof *names);
                if (!nn) abort();
                names = nn;
            }
            size_t l = strlen(argv[i]) + strlen(e->d_name) + 2;
            names[n] = malloc(l);
            if (!names[n]) abort();
            snprintf(names[n++], l, "%s/%s", argv[i], e->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof *names, by_name);
        for (size_t k = 0; k < n; k++) {
            bad |= run_file(names[k]) != 0;
            files++;
            free(names[k]);
        }
        free(names);
    }
    sb_fuzz_cleanup();
    printf("%s: replayed %ld file%s\n", argv[0], files, files == 1 ? "" : "s");
    if (!files) { fprintf(stderr, "%s: no input files\n", argv[0]); return 1; }
    return bad;
}
