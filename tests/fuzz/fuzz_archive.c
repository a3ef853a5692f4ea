/* libFuzzer target: Docker archive bytes through img_load; nothing may land outside the store. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/db.h"
#include "common/fsutil.h"
#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmp[64];
static sqlite3 *db;
static struct img_store *store;

static void cleanup(void)
{
        img_store_close(store);
        db_close(db);
        fs_rm_rf(tmp);
}

/* The fuzz dir holds only the store ("root") and the database: anything else escaped. */
static void check_confined(void)
{
        DIR *d = opendir(tmp);
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL)
                if (de->d_name[0] != '.' && strcmp(de->d_name, "root") != 0 &&
                    strncmp(de->d_name, "db", 2) != 0)
                        __builtin_trap();
        if (d != NULL)
                closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (store == NULL) {
                char p[128];
                strcpy(tmp, "/tmp/gantry-fuzz-archive.XXXXXX");
                if (mkdtemp(tmp) == NULL)
                        abort();
                snprintf(p, sizeof(p), "%s/db", tmp);
                if (db_open(p, &db, NULL) < 0)
                        abort();
                snprintf(p, sizeof(p), "%s/root", tmp);
                if (img_store_open(db, p, &store, NULL) < 0)
                        abort();
                atexit(cleanup);
        }
        int fd = memfd_create("archive", MFD_CLOEXEC);
        if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0)
                abort();
        json_t *loaded = NULL;
        struct gerr *err = NULL;
        int r = img_load(store, fd, &loaded, &err);
        close(fd);
        if ((r == 0) != (loaded != NULL) || (r == 0) == (err != NULL))
                __builtin_trap();
        gerr_free(err);
        json_decref(loaded);
        check_confined();
        /* Start the next input from an empty store. */
        json_t *list = NULL;
        if (img_list(store, true, NULL, &list, NULL) == 0) {
                size_t i;
                json_t *img;
                json_array_foreach(list, i, img)
                {
                        json_t *deleted = NULL;
                        struct gerr *e = NULL;
                        img_remove(store, json_string_value(json_object_get(img, "Id")), true, NULL,
                                   NULL, &deleted, &e);
                        json_decref(deleted);
                        gerr_free(e);
                }
                json_decref(list);
        }
        return 0;
}
