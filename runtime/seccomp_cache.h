/* Compiled seccomp programs kept on disk under the state root, keyed by the profile. */
#pragma once

#include <stddef.h>

#include "runtime/security.h"

/* Under the state root; the space keeps it apart from every valid container id. */
#define RT_SECCOMP_CACHE_DIR "seccomp cache"

/* The canonical text of everything that decides the compiled program (profile, libseccomp
 * version, kernel); malloc'd, NULL on ENOMEM. */
char *rt_seccomp_cache_key(const struct rt_seccomp *sc, size_t *len);
/* The file name of key: 16 hex digits of its FNV-1a 64 hash, then ".bpf". */
void rt_seccomp_cache_name(const char *key, size_t len, char name[static 21]);
/* Fill p->insns/len from <state_root>/seccomp cache/<name> if that file is valid and stores
 * exactly this key; anything else (absent, short, foreign) is a miss: -ENOENT or -EINVAL. */
int rt_seccomp_cache_read(const char *state_root, const char *key, size_t len,
                          struct rt_seccomp_prog *p);
/* Store p for key (temp file + rename). Failure only costs the next start a compile. */
int rt_seccomp_cache_write(const char *state_root, const char *key, size_t len,
                           const struct rt_seccomp_prog *p);
