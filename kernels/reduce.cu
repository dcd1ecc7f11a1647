// Fixed-order reductions: column sums, and the second stage of every
// two-stage sum (see common.cuh).

// out[c] (+)= sum over rows r = 0, 1, 2, ... of x[r, c]. One thread owns one
// column and adds its rows in order, exactly as the CPU does: the result is
// the CPU's, bit for bit.
extern "C" __global__ void col_sum(const float* x, float* out, long long rows, long long cols,
                                   int accumulate) {
    GRID_STRIDE(c, cols) {
        float acc = accumulate ? out[c] : 0.0f;
        for (long long r = 0; r < rows; ++r) acc += x[r * cols + c];
        out[c] = acc;
    }
}

// out[0] = scale * sum(partials[0 .. REDUCE_BLOCKS]), one block of
// REDUCE_THREADS threads folding the partials with the fixed tree.
extern "C" __global__ void finish_sum(const double* partials, float* out, double scale) {
    double v = 0.0;
    for (int k = threadIdx.x; k < REDUCE_BLOCKS; k += REDUCE_THREADS) v += partials[k];
    double total = block_sum(v);
    if (threadIdx.x == 0) out[0] = (float)(scale * total);
}
