// Shared by every kernel family. NVRTC compiles each family as one
// translation unit with this header prepended (see
// src/backend/kernel_sources.rs), so it carries no include guard or system
// header.

typedef unsigned int u32;

// Element-wise loops stride over the whole grid: any grid size covers any n,
// and the launch code may cap the grid without changing a result.
#define GRID_STRIDE(i, n)                                                      \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;       \
         i < (long long)(n); i += (long long)blockDim.x * gridDim.x)

// The same loop over an index type I. Element-wise kernels that divide
// an index by a size (row and column of an element) run it in 32 bits when
// the sizes fit: a 64-bit division or remainder is a long software sequence
// on the GPU, a 32-bit one a few instructions. FITS_32 tells which.
#define GRID_STRIDE_AS(I, i, n)                                                \
    for (I i = (I)blockIdx.x * (I)blockDim.x + (I)threadIdx.x; i < (n);        \
         i += (I)blockDim.x * (I)gridDim.x)
#define FITS_32(n) ((n) <= 0x7fffffffLL)

// Activation codes, in the order of the Rust enum `Activation`.
#define ACT_IDENTITY 0
#define ACT_RELU 1
#define ACT_TANH 2
#define ACT_SIGMOID 3

// 1 / (1 + exp(-x)) through e = exp(-|x|): nothing overflows and small
// results keep their relative accuracy (the CPU kernels do the same).
__device__ __forceinline__ float sigmoidf_(float x) {
    float e = expf(-fabsf(x));
    float d = 1.0f + e;
    return x >= 0.0f ? 1.0f / d : e / d;
}

__device__ __forceinline__ float activate(int act, float v) {
    switch (act) {
    case ACT_RELU: return v > 0.0f ? v : 0.0f;
    case ACT_TANH: return tanhf(v);
    case ACT_SIGMOID: return sigmoidf_(v);
    default: return v;
    }
}

// Reductions run in two fixed stages, never with atomics: stage one is a
// grid of exactly REDUCE_BLOCKS blocks of REDUCE_THREADS threads, each thread
// summing a fixed grid-stride subset in order and each block folding its
// threads with the tree below into partials[blockIdx.x]; stage two
// (reduce.cu: finish_sum) folds the partials with the same tree. Which value
// meets which is fixed by the sizes alone, so a result is bit-identical from
// run to run. Sums are carried in double, as on the CPU.
#define REDUCE_THREADS 256
#define REDUCE_BLOCKS 128

// Folds one value per thread of a REDUCE_THREADS block; thread 0 gets the sum.
__device__ __forceinline__ double block_sum(double v) {
    __shared__ double s[REDUCE_THREADS];
    s[threadIdx.x] = v;
    __syncthreads();
    for (int stride = REDUCE_THREADS / 2; stride > 0; stride /= 2) {
        if (threadIdx.x < stride) s[threadIdx.x] += s[threadIdx.x + stride];
        __syncthreads();
    }
    return s[0];
}
