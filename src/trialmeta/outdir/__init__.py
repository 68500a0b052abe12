"""The output folder of ``trialmeta refresh``: whose it is, how it is replaced, who may write it.

Rules (README "Where refresh writes"):

1. **Ownership.** ``--out`` is replaced only when it does not exist, is an empty folder, or
   holds :data:`MANIFEST` listing every file in it (written by refresh itself). A folder of
   the user's, a file, a symbolic link or a trialmeta folder holding files someone added is
   refused with exit 1, and nothing anywhere is touched.
2. **Staging.** New outputs are built in a folder of their own with a unique recorded name,
   ``.<name>.trialmeta-staging-<pid>-<random>`` beside the target, holding :data:`OWNER`
   (process id and start time), then swapped in by one ``renameat2(RENAME_EXCHANGE)``, or two
   renames where that call is missing.
3. **Content swap.** Where the folder itself cannot be renamed (a mount point, a parent
   folder that is read-only), staging happens inside the target and the entries are moved
   out and in, with a phase file so that an interrupted swap is rolled forward next time.
4. **Leftovers** of an interrupted run are removed only when their name is ours, they
   carry an owner file or a manifest, and their owning process is gone.
5. **Figures added to a folder** (``forest --out``) never overwrite a file no manifest lists
   (:func:`claim`), and are recorded in the folder's manifest afterwards (:func:`record`).
6. **Lock.** :func:`refresh_lock` serialises refreshes of one folder (filelock).
"""

from trialmeta.outdir.lock import refresh_lock
from trialmeta.outdir.owned import (HEADER, MANIFEST, OWNER, OutputRefused, check_target, claim, has_leftovers,
                                    read_manifest, record, write_manifest)
from trialmeta.outdir.swap import fsync_dir, recover, staging_dir

__all__ = ["HEADER", "MANIFEST", "OWNER", "OutputRefused", "check_target", "claim", "fsync_dir", "has_leftovers",
           "read_manifest", "record", "recover", "refresh_lock", "staging_dir", "write_manifest"]
