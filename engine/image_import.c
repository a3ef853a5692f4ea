/* docker import: a rootfs tar becomes an image whose config the --change lines give. */
#include <errno.h>

#include "common/cleanup.h"
#include "engine/engine_internal.h"
#include "image/image.h"

int eng_image_import(struct eng *e, int fd, const char *repo_tag, const char *const *changes,
                     size_t n_changes, const char *message, char **id_out, struct gerr **err)
{
        /* dockerd starts from an empty config and applies the changes as commit does. */
        _cleanup_json_ json_t *cfg = json_object();
        if (cfg == NULL)
                return gerr_set(err, ENOMEM, "import");
        int r = eng_commit_changes(cfg, changes, n_changes, err);
        if (r < 0)
                return r;
        return img_import(e->images, fd, repo_tag, cfg, message, id_out, err);
}
