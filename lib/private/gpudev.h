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

/* Roots for a topology file (another machine's): never this machine's
 * /proc and /sys (r->offline); where the file names no GPU by index (no
 * cuda/nvml/rsmi OS device, no pci_order or gpu_map already), index N is
 * the N-th GPU in PCI order. Returns the GPU count when that rule was
 * taken (for a note), else 0. Shared by `numa-gpu plan --topology` and
 * the request API. */
int ng_roots_for_file(const ng_topo *t, ng_roots *r);

#endif
