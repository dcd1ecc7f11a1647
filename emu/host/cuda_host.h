// The CUDA C dialect of kernels/*.cu, on the host: each kernel family is
// compiled by the system C++ compiler with this header first (build.rs).
// A CUDA thread is a call of the kernel function on a fiber of its own; the
// scheduler (scheduler.cpp) sets the index variables before it resumes a
// fiber, and `__syncthreads` hands control back to it.
#pragma once

#include <math.h>
#include <string.h>

struct emu_uint3 {
    unsigned int x, y, z;
};

// One block runs at a time (the driver holds its lock while a grid runs),
// so plain globals hold the running thread's indices.
extern "C" emu_uint3 emu_threadIdx, emu_blockIdx, emu_blockDim, emu_gridDim;
#define threadIdx emu_threadIdx
#define blockIdx emu_blockIdx
#define blockDim emu_blockDim
#define gridDim emu_gridDim

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
// Blocks run one after the other, so one static copy per declaration is a
// block's shared memory; every fiber of the block sees the same one.
#define __shared__ static

// The line tells barriers apart: threads of one block waiting at different
// `__syncthreads` calls are reported, as they would hang or misbehave on a GPU.
extern "C" void emu_syncthreads(int line);
#define __syncthreads() emu_syncthreads(__LINE__)

inline float __int_as_float(int i) {
    float f;
    memcpy(&f, &i, sizeof f);
    return f;
}
inline int __float_as_int(float f) {
    int i;
    memcpy(&i, &f, sizeof i);
    return i;
}
