// Kernels the emulator's own tests run (src/kernels.rs): a barrier used
// correctly, the three misuses the scheduler reports, and the order in
// which a block's threads start.
#include "cuda_host.h"
#include "kernel_table.h"

// out[block] = sum of the block's x, through shared memory and a barrier.
extern "C" __global__ void emu_test_block_sum(const float* x, float* out) {
    __shared__ float s[1024];
    s[threadIdx.x] = x[blockIdx.x * blockDim.x + threadIdx.x];
    __syncthreads();
    if (threadIdx.x == 0) {
        float total = 0.0f;
        for (unsigned i = 0; i < blockDim.x; ++i) total += s[i];
        out[blockIdx.x] = total;
    }
}

// Even threads wait, odd ones return.
extern "C" __global__ void emu_test_even_threads_wait(float* out) {
    if (threadIdx.x % 2 == 0) __syncthreads();
    out[threadIdx.x] = 1.0f;
}

// Every thread but the first and the last waits.
extern "C" __global__ void emu_test_inner_threads_wait(float* out) {
    if (threadIdx.x != 0 && threadIdx.x + 1 != blockDim.x) __syncthreads();
    out[threadIdx.x] = 1.0f;
}

// Even and odd threads wait at different barriers.
extern "C" __global__ void emu_test_split_barriers(float* out) {
    if (threadIdx.x % 2 == 0) {
        __syncthreads();
    } else {
        __syncthreads();
    }
    out[threadIdx.x] = 1.0f;
}

// out[0] = the thread that ran last.
extern "C" __global__ void emu_test_last_thread(unsigned* out) { out[0] = threadIdx.x; }

extern "C" const EmuKernel emu_selftest_kernels[] = {
    EMU_KERNEL(emu_test_block_sum),         EMU_KERNEL(emu_test_even_threads_wait),
    EMU_KERNEL(emu_test_inner_threads_wait), EMU_KERNEL(emu_test_split_barriers),
    EMU_KERNEL(emu_test_last_thread),
};
extern "C" const size_t emu_selftest_count = sizeof emu_selftest_kernels / sizeof(EmuKernel);
