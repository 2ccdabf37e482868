// Preloaded into the proxy by scripts/hot-functions (LD_PRELOAD). Gives every page of the
// executable's code a mapping of its own, by alternating two madvise hints, so the kernel faults
// code in one page at a time instead of 64 KiB around each fault; at exit it writes the process's
// /proc/self/smaps to $HOT_FUNCTIONS_DIR/PID.smaps, where each page's Rss says whether it was used
// after the proxy gave back its startup pages.
#define _GNU_SOURCE
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static int split_code_pages(struct dl_phdr_info *info, size_t size, void *unused) {
    if (info->dlpi_name != NULL && info->dlpi_name[0] != '\0') return 0;  // the executable only
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
        if (segment->p_type != PT_LOAD || !(segment->p_flags & PF_X)) continue;
        uintptr_t start = (info->dlpi_addr + segment->p_vaddr) & ~(uintptr_t)4095;
        uintptr_t end = (info->dlpi_addr + segment->p_vaddr + segment->p_memsz + 4095) & ~(uintptr_t)4095;
        for (uintptr_t page = start, index = 0; page < end; page += 4096, index++) {
            madvise((void *)page, 4096, (index & 1) ? MADV_SEQUENTIAL : MADV_RANDOM);
        }
    }
    return 0;
}

__attribute__((constructor)) static void start(void) { dl_iterate_phdr(split_code_pages, NULL); }

__attribute__((destructor)) static void finish(void) {
    const char *directory = getenv("HOT_FUNCTIONS_DIR");
    if (directory == NULL) return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%d.smaps", directory, (int)getpid());
    FILE *in = fopen("/proc/self/smaps", "r"), *out = fopen(path, "w");
    if (in != NULL && out != NULL) {
        char buffer[65536];
        size_t count;
        while ((count = fread(buffer, 1, sizeof buffer, in)) > 0) fwrite(buffer, 1, count, out);
    }
    if (in != NULL) fclose(in);
    if (out != NULL) fclose(out);
}
