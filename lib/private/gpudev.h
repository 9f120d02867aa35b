/* A GPU's device file (gres.conf File=) to its PCI bus id (lib/gpu.c): how
 * Slurm's GRES index g reaches a device on a node whose GPUs are not all
 * numbered one way (an NVIDIA and an AMD GPU in one box: Slurm numbers them
 * in gres.conf order, /dev/nvidia0 then /dev/dri/renderD128).
 * Internal to numa-gpu (library, CLI, plugin, tests): not installed. */
#ifndef NG_PRIVATE_GPUDEV_H
#define NG_PRIVATE_GPUDEV_H

#include "numagpu.h"

/* .../nvidiaN: the NVIDIA GPU whose Device Minor is N (procfs);
 * .../cardN, .../renderDN: the DRM device's PCI parent (sysfs). Only the
 * file's name counts (tests use fake roots). -1 with why. */
int ng_gpu_resolve_file(const ng_roots *r, const char *path, char busid[NG_BUSID_LEN],
                        char *err, size_t errlen);

#endif
